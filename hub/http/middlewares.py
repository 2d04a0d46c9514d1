"""Middlewares: errors, security headers, metrics, who is asking, CSRF."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import Counter, Histogram

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

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def csrf_exempt(handler: Handler) -> Handler:
    """For endpoints that other systems POST to without a browser session (webhooks,
    one-click unsubscribe); they must authenticate the request themselves."""
    handler.csrf_exempt = True  # type: ignore[attr-defined]
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
            return json_error(exc.status, exc.text or exc.reason)
        if exc.content_type == "text/html":
            raise
        return error_page(request, exc.status, exc.reason, exc.text or exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api(request):
            return json_error(500, "Внутренняя ошибка сервера.")
        return error_page(request, 500, "Ошибка", "Что-то пошло не так. Попробуйте ещё раз.")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


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
    if token:
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
    """Double-submit token: a random cookie that every unsafe browser request repeats in a
    form field or header. Bearer-token requests carry no cookies and are exempt."""
    token = request.cookies.get(CSRF_COOKIE) or ""
    fresh = len(token) < 32
    if fresh:
        token = secrets.token_urlsafe(32)
    request[CSRF_TOKEN] = token
    if request.method in UNSAFE_METHODS and not request.get(BEARER):
        route_handler = getattr(request.match_info, "handler", None)
        if not getattr(route_handler, "csrf_exempt", False):
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                sent = str((await request.post()).get(CSRF_FIELD, ""))
            if fresh or not hmac.compare_digest(sent.encode(), token.encode()):
                if is_api(request):
                    return json_error(403, "Запрос отклонён: нет CSRF-токена.")
                raise web.HTTPForbidden(
                    text="Форма устарела. Обновите страницу и отправьте её ещё раз."
                )
    response = await handler(request)
    if fresh:
        set_cookie(request, response, CSRF_COOKIE, token)
    return response


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
