"""The profile's Telegram page (link code, QR code, unlinking) and, in webhook mode, the
webhook route (bots.webhook, loaded only then: aiogram is slow to import)."""

from __future__ import annotations

import logging

import segno
from aiohttp import web
from markupsafe import Markup

from bots.linking import deep_link, issue_link_code, link_state, unlink_person
from hub.auth.access import Action, can, require
from hub.http.keys import DB, NAV, SETTINGS, NavItem
from hub.http.render import redirect, render
from hub.http.session import signed_in

log = logging.getLogger(__name__)


def setup(app: web.Application) -> None:
    app.router.add_get("/profile/telegram", telegram_page)
    app.router.add_post("/profile/telegram/code", new_code)
    app.router.add_post("/profile/telegram/unlink", unlink)
    app[NAV].append(NavItem("Telegram", "/profile/telegram",
                            visible=lambda p: can(p, Action.LINK_TELEGRAM), order=90))
    if app[SETTINGS].telegram_mode == "webhook":
        from bots.webhook import setup_webhook

        setup_webhook(app)


# ---------------------------------------------------------------- the profile page


async def telegram_page(request: web.Request) -> web.Response:
    principal, account = signed_in(request)
    require(principal, Action.LINK_TELEGRAM)
    async with request.app[DB].session() as session:
        state = await link_state(session, account.person_id)
    return _page(request, state=state)


async def new_code(request: web.Request) -> web.Response:
    principal, account = signed_in(request)
    require(principal, Action.LINK_TELEGRAM)
    username = request.app[SETTINGS].telegram_bot_username
    if not username:
        return _page(request, status=409, error="Telegram-бот школы не настроен.")
    async with request.app[DB].transaction() as session:
        issued = await issue_link_code(session, account.person_id)
        state = await link_state(session, account.person_id)
    link = deep_link(username, issued.code)
    qr = Markup(segno.make(link, error="m").svg_inline(scale=4, title="QR-код ссылки"))
    log.info("telegram link code issued to person %s", account.person_id)
    return _page(request, state=state, link=link, qr=qr, expires_at=issued.expires_at)


async def unlink(request: web.Request) -> web.StreamResponse:
    principal, account = signed_in(request)
    require(principal, Action.LINK_TELEGRAM)
    async with request.app[DB].transaction() as session:
        await unlink_person(session, account.person_id)
    log.info("telegram unlinked by person %s", account.person_id)
    return redirect("/profile/telegram")


def _page(request: web.Request, *, status: int = 200, **context: object) -> web.Response:
    settings = request.app[SETTINGS]
    base = {
        "configured": bool(settings.telegram_bot_token and settings.telegram_bot_username),
        "bot_username": settings.telegram_bot_username,
        "state": None, "link": None, "qr": None, "expires_at": None, "error": None,
    }
    return render(request, "bots/telegram.html", base | context, status=status)
