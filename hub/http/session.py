"""Helpers for views: who is signed in, or send them to sign in."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from hub.auth.access import Principal
from hub.auth.models import Account
from hub.http.keys import ACCOUNT, PRINCIPAL
from hub.http.middlewares import is_api, json_error


def current_principal(request: web.Request) -> Principal:
    """The principal (a person or an API token), or 401 / a redirect to the sign-in page."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        _unauthenticated(request)
    return principal


def signed_in(request: web.Request) -> tuple[Principal, Account]:
    """A signed-in person (not an API token), or 401 / a redirect to the sign-in page."""
    principal, account = request.get(PRINCIPAL), request.get(ACCOUNT)
    if principal is None or account is None:
        _unauthenticated(request)
    return principal, account


def _unauthenticated(request: web.Request) -> None:
    if is_api(request):
        raise web.HTTPUnauthorized(
            text=json_error(401, "Требуется вход или API-токен.").text,
            content_type="application/json",
        )
    raise web.HTTPSeeOther(f"/signin?next={quote(request.path)}")
