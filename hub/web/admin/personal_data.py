"""Personal data (152-ФЗ): download everything about a person as JSON; erase it after a
confirmation step."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from hub.auth.access import Action, require
from hub.errors import Conflict
from hub.http.keys import DB, PRIVACY_SOURCES, SESSIONS
from hub.http.render import render
from hub.http.session import signed_in
from hub.privacy import erase_person, export_person
from hub.web.admin.common import form_text, path_id, person_or_404

log = logging.getLogger("hub.admin")
routes = web.RouteTableDef()

CONFIRM_WORD = "УДАЛИТЬ"


@routes.get("/admin/people/{id}/export")
async def export_download(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.EXPORT_PERSONAL_DATA)
    person_id = path_id(request)
    async with request.app[DB].session() as session:
        await person_or_404(session, principal.school_id, person_id)
        data = await export_person(session, person_id, request.app[PRIVACY_SOURCES])
    log.info("personal data of person %s exported by %s", person_id, principal.person_id)
    return web.Response(
        text=json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="person-{person_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@routes.get("/admin/people/{id}/erase")
async def erase_confirm(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.ERASE_PERSONAL_DATA)
    async with request.app[DB].session() as session:
        person = await person_or_404(session, principal.school_id, path_id(request))
    return render(request, "admin/erase.html", {
        "p": person, "error": None, "word": CONFIRM_WORD, "done": False,
    })


@routes.post("/admin/people/{id}/erase")
async def erase(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.ERASE_PERSONAL_DATA)
    person_id = path_id(request)
    form = await request.post()
    if person_id == principal.person_id:
        raise Conflict("Нельзя удалить собственные данные из-под своей учётной записи: "
                       "попросите другого администратора.")
    if form_text(form, "confirm").upper() != CONFIRM_WORD:
        async with request.app[DB].session() as session:
            person = await person_or_404(session, principal.school_id, person_id)
        return render(request, "admin/erase.html", {
            "p": person, "word": CONFIRM_WORD, "done": False,
            "error": f"Для подтверждения введите слово {CONFIRM_WORD}.",
        }, status=422)
    async with request.app[DB].transaction() as session:
        person = await person_or_404(session, principal.school_id, person_id)
        account_id = await erase_person(session, person_id, request.app[PRIVACY_SOURCES])
    if account_id is not None:
        await request.app[SESSIONS].end_all(account_id)
    log.info("person %s erased by %s", person_id, principal.person_id)
    return render(request, "admin/erase.html", {
        "p": person, "word": CONFIRM_WORD, "done": True, "error": None,
    })
