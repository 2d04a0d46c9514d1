"""API tokens: issue one with scopes (the secret is shown once), revoke."""

from __future__ import annotations

import logging

from aiohttp import web

from hub import directory
from hub.auth.access import Action, TokenScope, require
from hub.auth.tokens import issue_token, revoke_token
from hub.errors import NotFound
from hub.http.keys import DB
from hub.http.render import render
from hub.http.session import signed_in
from hub.web.admin.common import form_text, path_id

log = logging.getLogger("hub.admin")
routes = web.RouteTableDef()

SCOPE_TITLES = {
    TokenScope.ADMIN: "администрирование: люди, классы, связи, согласия",
    TokenScope.JOURNAL: "журнал: оценки и посещаемость",
}


async def _page(request: web.Request, school_id: int, **context: object) -> web.Response:
    status = context.pop("status", 200)
    assert isinstance(status, int)
    async with request.app[DB].session() as session:
        tokens = await directory.tokens_of_school(session, school_id)
    return render(request, "admin/tokens.html", {
        "tokens": tokens, "scopes": SCOPE_TITLES, "secret": None, "error": None, **context,
    }, status=status)


@routes.get("/admin/tokens")
async def tokens_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_API_TOKENS)
    return await _page(request, principal.school_id)


@routes.post("/admin/tokens")
async def token_issue(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_API_TOKENS)
    form = await request.post()
    name = form_text(form, "name")
    try:
        scopes = {TokenScope(str(s)) for s in form.getall("scopes", [])}
    except ValueError:
        scopes = set()
    if not name or not scopes:
        return await _page(request, principal.school_id, status=422,
                           error="Укажите название и хотя бы одну область доступа.")
    async with request.app[DB].transaction() as session:
        issued = await issue_token(session, principal.school_id, name, scopes,
                                   created_by_id=principal.person_id)
    log.info("api token %s issued by %s", issued.token.id, principal.person_id)
    response = await _page(request, principal.school_id, secret=issued.secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/admin/tokens/{id}/revoke")
async def token_revoke(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_API_TOKENS)
    token_id = path_id(request)
    async with request.app[DB].transaction() as session:
        if not await revoke_token(session, principal.school_id, token_id):
            raise NotFound("Нет такого действующего токена.")
    log.info("api token %s revoked by %s", token_id, principal.person_id)
    raise web.HTTPSeeOther("/admin/tokens")
