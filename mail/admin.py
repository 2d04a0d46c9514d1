"""The local mailbox's pages for the system administrator: what parents would receive
while no SMTP server is configured."""

from __future__ import annotations

from aiohttp import web

from hub.auth.access import Action, can, require
from hub.http.keys import DB, NAV, SETTINGS, NavItem
from hub.http.render import render
from hub.http.session import signed_in
from mail.mailbox import PAGE_SIZE, MailboxMessage, get_message, list_messages

routes = web.RouteTableDef()

# The HTML part is shown on its own, sandboxed: no scripts, no requests, no framing.
LETTER_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[NAV].append(
        NavItem("Почта", "/admin/mailbox", visible=lambda p: can(p, Action.VIEW_MAILBOX),
                order=92)
    )


def _page(request: web.Request) -> int:
    try:
        return max(1, min(int(request.query.get("page", "1")), 100_000))
    except ValueError:
        raise web.HTTPBadRequest(text="Номер страницы должен быть числом.") from None


@routes.get("/admin/mailbox")
async def mailbox(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_MAILBOX)
    to = request.query.get("to", "").strip()[:254]
    page = _page(request)
    async with request.app[DB].session() as session:
        messages, total = await list_messages(session, principal.school_id, to=to, page=page)
    return render(
        request, "mail/mailbox.html",
        {
            "messages": messages, "total": total, "to": to, "page": page,
            "page_size": PAGE_SIZE, "smtp_configured": bool(request.app[SETTINGS].smtp_host),
        },
    )


async def _message(request: web.Request) -> MailboxMessage:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_MAILBOX)
    message_id = int(request.match_info["id"])
    if message_id > 2**31 - 1:
        raise web.HTTPNotFound(text="Письмо не найдено.")
    async with request.app[DB].session() as session:
        message = await get_message(session, principal.school_id, message_id)
    if message is None:
        raise web.HTTPNotFound(text="Письмо не найдено.")
    return message


@routes.get(r"/admin/mailbox/{id:\d+}")
async def mailbox_message(request: web.Request) -> web.Response:
    message = await _message(request)
    return render(request, "mail/mailbox_message.html", {"message": message})


@routes.get(r"/admin/mailbox/{id:\d+}/html")
async def mailbox_message_html(request: web.Request) -> web.Response:
    message = await _message(request)
    response = web.Response(text=message.html_body, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = LETTER_CSP
    return response
