"""Middlewares: errors, metrics, who is asking, CSRF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DataError

from hub.auth.access import AccessDenied
from hub.auth.tokens import principal_for_token
from hub.errors import UserError
from hub.http.keys import (
    ACCOUNT,
    BEARER,
    CSRF_TOKEN,
    DB,
    IDENTITIES,
    PRINCIPAL,
    SESSION_TOKEN,
    SETTINGS,
)

log = logging.getLogger("hub.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "hub_session"
CSRF_COOKIE = "hub_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths a person who must change their password may still reach.
PASSWORD_CHANGE_PATHS = ("/account/password", "/signout", "/static/", "/healthz", "/metrics")

REQUESTS = Counter("hub_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("hub_http_request_seconds", "HTTP request latency", ["route"])

def csrf_exempt(handler: Handler) -> Handler:
    """For endpoints that other systems POST to without a browser session (webhooks,
    one-click unsubscribe); they must authenticate the request themselves."""
    handler.csrf_exempt = True  # type: ignore[attr-defined]  # a marker read back with getattr
    return handler


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    from hub.http.render import error_page

    try:
        return await handler(request)
    except AccessDenied:
        if is_api(request):
            return json_error(403, "Недостаточно прав для этого действия.")
        return error_page(request, 403, "Недостаточно прав", "У вас нет доступа к этой странице.")
    except UserError as exc:
        if is_api(request):
            return json_error(exc.status, exc.message, details=exc.details)
        return error_page(request, exc.status, exc.title, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.empty_body:
            raise
        if is_api(request):
            if exc.content_type == "application/json":
                raise
            return _keep_headers(exc, json_error(exc.status, exc.text or exc.reason))
        if exc.content_type == "text/html":
            raise
        return _keep_headers(
            exc, error_page(request, exc.status, exc.reason, exc.text or exc.reason)
        )
    except Exception as exc:
        if _bad_data(exc):
            # The database refused a value (a number beyond its column, a character it
            # cannot keep) that a check upstream let through: the request's fault, and the
            # transaction was rolled back.
            log.warning("value refused by the database on %s %s", request.method, request.path)
            message = "Значение вне допустимых пределов или содержит недопустимые символы."
            if is_api(request):
                return json_error(400, message)
            return error_page(request, 400, "Ошибка в запросе", message)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api(request):
            return json_error(500, "Внутренняя ошибка сервера.")
        return error_page(request, 500, "Ошибка", "Что-то пошло не так. Попробуйте ещё раз.")


# Headers an error answer must keep when it is rendered anew (Allow on a 405, Retry-After).
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _keep_headers(exc: web.HTTPException, response: web.Response) -> web.Response:
    for name in KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def _bad_data(exc: BaseException) -> bool:
    """A data exception of the database (SQLSTATE class 22: out of range, invalid
    characters) or a number the driver cannot bind, anywhere in the exception's chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (DataError, OverflowError)):
            return True
        if str(getattr(seen, "sqlstate", "") or "").startswith("22"):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False


@web.middleware
async def metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        REQUESTS.labels(request.method, name, str(status)).inc()
        LATENCY.labels(name).observe(time.perf_counter() - started)


@web.middleware
async def identity(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sets request[PRINCIPAL] (None when anonymous) from the session cookie or a bearer
    token."""
    request[PRINCIPAL] = None
    request[ACCOUNT] = None
    request[BEARER] = False
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        async with request.app[DB].transaction() as session:
            principal = await principal_for_token(session, authorization[7:].strip())
        if principal is None:
            return json_error(401, "Неверный или отозванный API-токен.")
        request[PRINCIPAL] = principal
        request[BEARER] = True
        return await handler(request)

    token = request.cookies.get(SESSION_COOKIE)
    if token and token.isascii() and token.isprintable():  # tokens are urlsafe ASCII
        found = await request.app[IDENTITIES].identify(token)
        if found is not None:
            request[ACCOUNT] = found.account
            request[SESSION_TOKEN] = token
            request[PRINCIPAL] = found.principal
    account = request[ACCOUNT]
    if (
        account is not None
        and account.must_change_password
        and not request.path.startswith(PASSWORD_CHANGE_PATHS)
    ):
        if is_api(request):
            return json_error(403, "Сначала смените пароль.")
        raise web.HTTPSeeOther("/account/password")
    return await handler(request)


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every unsafe browser request repeats a token that only this site could have given
    it, in a form field or the X-CSRF-Token header, and, when the browser says where it
    comes from (Origin), comes from this site. Bearer-token requests carry no cookies and
    are exempt."""
    visitor = request.cookies.get(CSRF_COOKIE, "")
    fresh = False
    session_token = request.get(SESSION_TOKEN)
    if session_token is None and not _looks_random(visitor):
        visitor, fresh = secrets.token_urlsafe(32), True
    expected = csrf_token_for(request.app[SETTINGS].secret, session_token, visitor)
    request[CSRF_TOKEN] = expected
    # No route (404, 405): nothing to protect, and the answer should say so.
    routed = request.match_info.http_exception is None
    if request.method in UNSAFE_METHODS and routed and not request.get(BEARER):
        route_handler = getattr(request.match_info, "handler", None)
        if not getattr(route_handler, "csrf_exempt", False):
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                sent = str((await request.post()).get(CSRF_FIELD, ""))
            if (
                fresh
                or not _same_origin(request)
                or not hmac.compare_digest(sent.encode(errors="replace"), expected.encode())
            ):
                if is_api(request):
                    return json_error(403, "Запрос отклонён: нет CSRF-токена.")
                raise web.HTTPForbidden(
                    text="Форма устарела. Обновите страницу и отправьте её ещё раз."
                )
    response = await handler(request)
    if fresh:
        set_cookie(request, response, CSRF_COOKIE, visitor)
    return response


def csrf_token_for(secret: bytes, session_token: str | None, visitor: str) -> str:
    """The token forms and scripts repeat: an HMAC of the session's token for a signed-in
    person, so a cookie planted by another site (another port of the same host shares
    cookies) is of no use without the session itself; before signing in, an HMAC of the
    visitor's random cookie. Neither can be made without the installation's secret."""
    purpose, value = (
        (b"session", session_token) if session_token is not None else (b"visitor", visitor)
    )
    digest = hmac.new(secret, b"school-hub csrf\x00" + purpose + b"\x00" + value.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _looks_random(cookie: str) -> bool:
    return 32 <= len(cookie) <= 64 and cookie.isascii() and cookie.isprintable()


def _same_origin(request: web.Request) -> bool:
    """True unless the browser says the request comes from another origin. Browsers send
    Origin with every cross-site POST; a request without it (a test client, an old
    browser) relies on the token alone."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    here = {request.host, urlsplit(request.app[SETTINGS].public_url).netloc}
    try:
        return urlsplit(origin).netloc in here
    except ValueError:
        return False


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS].public_url.startswith("https://"),
        path="/",
    )
