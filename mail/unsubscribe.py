"""One-click unsubscribe (RFC 8058): the link in every letter's List-Unsubscribe header.

POST /mail/unsubscribe/{token} turns e-mail off for the token's person and kinds, without
signing in and without a CSRF cookie (mail clients POST on their own); the signed token is
the authentication. GET shows a page with a button, for a person who clicked the link: a
GET never changes anything (link scanners follow links). A forged or altered token is a
400 and changes nothing; so is a link made before the person last turned one of its kinds
back on: it spoke for a choice they have since revised.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from hub.http.keys import DB, SETTINGS
from hub.http.middlewares import csrf_exempt
from hub.http.render import error_page, render
from hub.notify.channel import KIND_TITLES, ChannelName
from hub.notify.preferences import Mode, changed_since, set_mode
from hub.school import Person
from mail.tokens import UNSUBSCRIBE_PATH, BadToken, Unsubscribe, read_token

log = logging.getLogger(__name__)

routes = web.RouteTableDef()
ROUTE = UNSUBSCRIBE_PATH + "{token}"


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)


def _token(request: web.Request) -> Unsubscribe | None:
    try:
        return read_token(request.app[SETTINGS].secret, request.match_info["token"])
    except BadToken:
        return None


def _bad_link(request: web.Request) -> web.Response:
    return error_page(
        request, 400, "Ссылка недействительна",
        "Ссылка для отписки повреждена или устарела. Настройте уведомления на странице "
        "«Уведомления» после входа на портал.",
    )


def _kind_titles(unsubscribe: Unsubscribe) -> list[str]:
    return [KIND_TITLES[kind] for kind in unsubscribe.kinds]


async def _outdated(session: AsyncSession, unsubscribe: Unsubscribe) -> bool:
    """Whether the person turned one of the link's kinds back on after the link was made.
    (A kind they turned off since, by this link or on the settings page, stays off: the
    same link clicked twice still answers that they are unsubscribed.)"""
    changed = await changed_since(session, unsubscribe.person_id, unsubscribe.kinds,
                                  ChannelName.EMAIL, unsubscribe.issued_at)
    return any(mode != Mode.OFF for mode in changed.values())


@routes.get(ROUTE)
async def confirm_page(request: web.Request) -> web.Response:
    unsubscribe = _token(request)
    if unsubscribe is None:
        return _bad_link(request)
    async with request.app[DB].session() as session:
        if await _outdated(session, unsubscribe):
            return _bad_link(request)
    return render(
        request, "mail/unsubscribe.html",
        {"kinds": _kind_titles(unsubscribe), "action": request.path},
    )


@routes.post(ROUTE)
@csrf_exempt
async def unsubscribe(request: web.Request) -> web.Response:
    unsubscribe = _token(request)
    if unsubscribe is None:
        return _bad_link(request)
    async with request.app[DB].transaction() as session:
        if await session.get(Person, unsubscribe.person_id) is None:
            return _bad_link(request)
        if await _outdated(session, unsubscribe):
            return _bad_link(request)
        for kind in unsubscribe.kinds:
            await set_mode(session, unsubscribe.person_id, kind, ChannelName.EMAIL, Mode.OFF)
    log.info(
        "person %s unsubscribed from e-mail: %s",
        unsubscribe.person_id, ",".join(k.value for k in unsubscribe.kinds),
    )
    return render(request, "mail/unsubscribed.html", {"kinds": _kind_titles(unsubscribe)})
