"""Classes: the list and a class's page (students, their parents, teachers)."""

from __future__ import annotations

import logging

from aiohttp import web

from hub import directory
from hub.auth.access import Action, Everywhere, can, classes_for, require
from hub.errors import UserError
from hub.http.keys import DB
from hub.http.render import render
from hub.http.session import signed_in
from hub.web.admin.common import class_or_404, form_text, path_id

log = logging.getLogger("hub.admin")
routes = web.RouteTableDef()


@routes.get("/admin/classes")
async def class_list(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    scope = classes_for(principal, Action.VIEW_CLASS)
    async with request.app[DB].session() as session:
        summaries = await directory.class_summaries(
            session, principal.school_id,
            None if isinstance(scope, Everywhere) else scope,
        )
    return render(request, "admin/classes.html", {
        "summaries": summaries, "error": None, "name": "",
        "may_create": can(principal, Action.MANAGE_CLASSES),
    })


@routes.post("/admin/classes")
async def class_create(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_CLASSES)
    name = form_text(await request.post(), "name")[:16]
    try:
        async with request.app[DB].transaction() as session:
            school_class = await directory.create_class(session, principal.school_id, name)
    except UserError as exc:
        async with request.app[DB].session() as session:
            summaries = await directory.class_summaries(session, principal.school_id)
        return render(request, "admin/classes.html", {
            "summaries": summaries, "error": exc.message[:1].upper() + exc.message[1:],
            "name": name, "may_create": True,
        }, status=exc.status)
    log.info("class %s created by %s", school_class.id, principal.person_id)
    raise web.HTTPSeeOther(f"/admin/classes/{school_class.id}")


@routes.get("/admin/classes/{id}")
async def class_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    class_id = path_id(request)
    async with request.app[DB].session() as session:
        school_class = await class_or_404(session, principal.school_id, class_id)
        require(principal, Action.VIEW_CLASS, school_class.id)
        details = await directory.class_details(session, school_class)
    return render(request, "admin/class.html", {
        "d": details, "may_view_people": can(principal, Action.VIEW_PEOPLE),
    })
