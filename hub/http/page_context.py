"""The common context of every page (who is signed in, the nav and its badges, the CSRF
token) and the response a rendered page is sent in.

A safe request (GET, HEAD) almost always renders a page: its common context is built before
the handler runs, by `middleware`. An unsafe one (a form sent) mostly answers with a
redirect, which needs none of it: its page, when it has one (the form again, with what was
wrong), is rendered by `middleware` once the handler has returned it (`page_response`). Either
way the page is rendered inside the middlewares, so a failure while rendering it still gets
the error middleware's page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp_jinja2 import REQUEST_CONTEXT_KEY

from hub.http.badges import badge_value
from hub.http.keys import ACCOUNT, CSRF_TOKEN, NAV, PRINCIPAL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def common_context(request: web.Request) -> dict[str, Any]:
    principal = request.get(PRINCIPAL)
    nav = []
    if principal is not None:
        items = request.app[NAV]
        for item in sorted(items, key=lambda i: i.order):
            if item.visible(principal):
                badge = await badge_value(request, item, principal) if item.badge else None
                nav.append({"title": item.title, "path": item.path, "badge": badge})
    return {
        "principal": principal,
        "account": request.get(ACCOUNT),
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "nav": nav,
        "request_path": request.path,
    }


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS:
        request[REQUEST_CONTEXT_KEY] = await common_context(request)
        return await handler(request)
    response = await handler(request)
    if isinstance(response, _PageToRender):
        request[REQUEST_CONTEXT_KEY] = await common_context(request)
        response.render()
    return response


def page_response(request: web.Request, build: Callable[[], bytes], *,
                  status: int = 200) -> web.Response:
    """An HTML page whose UTF-8 `build` renders with the request's common context: rendered
    now when the middleware built that context, else by the middleware once the handler
    has returned it."""
    if REQUEST_CONTEXT_KEY in request:
        return _html(build(), status)
    return _PageToRender(build, status)


def _html(body: bytes, status: int) -> web.Response:
    return web.Response(body=body, status=status, content_type="text/html", charset="utf-8")


class _PageToRender(web.Response):
    """A page of an unsafe request, to be rendered by `middleware` with the common context."""

    def __init__(self, build: Callable[[], bytes], status: int) -> None:
        super().__init__(status=status, content_type="text/html", charset="utf-8")
        self._build: Callable[[], bytes] | None = build

    def render(self) -> None:
        if self._build is not None:
            self.body, self._build = self._build(), None

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        # Made outside `middleware`'s reach (by a middleware of its own): rendered now.
        if self._build is not None:
            assert isinstance(request, web.Request)
            request[REQUEST_CONTEXT_KEY] = await common_context(request)
            self.render()
        return await super().prepare(request)
