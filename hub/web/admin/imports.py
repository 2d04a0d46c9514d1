"""The CSV import form: upload, then either a report of what was imported or every bad
row by line number (and nothing imported)."""

from __future__ import annotations

import logging

from aiohttp import web

from hub.auth.access import Action, can, require
from hub.http.keys import DB
from hub.http.render import render
from hub.http.session import signed_in
from hub.importer import MAX_FILE_BYTES, ImportRejected, RowError, import_people

log = logging.getLogger("hub.admin")
routes = web.RouteTableDef()


@routes.get("/admin/import")
async def import_form(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.IMPORT_PEOPLE)
    return render(request, "admin/import.html", {"errors": None, "report": None})


@routes.post("/admin/import")
async def import_upload(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.IMPORT_PEOPLE)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return render(request, "admin/import.html", {
            "errors": [RowError(0, "выберите файл CSV")], "report": None,
        }, status=422)
    data = upload.file.read(MAX_FILE_BYTES + 1)
    try:
        async with request.app[DB].transaction() as session:
            report = await import_people(
                session, principal.school_id, data,
                may_grant_roles=can(principal, Action.MANAGE_ROLES),
            )
    except ImportRejected as exc:
        log.info("import by %s rejected: %d problem(s)", principal.person_id, len(exc.errors))
        return render(request, "admin/import.html", {"errors": exc.errors, "report": None},
                      status=exc.status)
    log.info("import by %s: %d created, %d updated", principal.person_id, report.created,
             report.updated)
    return render(request, "admin/import.html", {"errors": None, "report": report})
