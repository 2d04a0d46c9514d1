"""The database is away (restarting, down, out of connections): every page and API answers
503 with Retry-After and a short Russian page, not 500 and a stack trace per request.

One log line when an outage begins and one when it ends, however many requests fail in
between. What counts as "away" is narrow: a connection that cannot be made or was lost, or
no connection free in time; any other database error is a bug and stays a 500.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from sqlalchemy import exc as sa_exc

log = logging.getLogger("hub.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RETRY_AFTER = 10  # seconds
PAGE = (
    "<!doctype html><html lang=\"ru\"><meta charset=\"utf-8\">"
    "<title>Портал временно недоступен</title>"
    "<h1>Портал временно недоступен</h1>"
    "<p>Мы уже восстанавливаем работу. Попробуйте обновить страницу через минуту.</p>"
    "</html>"
)
_CONNECTION_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH,
                      errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE}
# Connection-level errors of the drivers that SQLAlchemy wraps as a plain DBAPIError.
_DRIVER_ERRORS = {"CannotConnectNowError", "ConnectionDoesNotExistError",
                  "ConnectionFailureError", "AdminShutdownError", "CrashShutdownError",
                  "TooManyConnectionsError", "InternalClientError"}


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached, rather than a bug."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated or isinstance(
            error, sa_exc.OperationalError | sa_exc.InterfaceError
        ):
            return True
        return type(error.orig).__name__ in _DRIVER_ERRORS or (
            error.orig is not None and is_outage(error.orig))
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    return isinstance(error, OSError) and error.errno in _CONNECTION_ERRNOS


class Outage:
    """Whether the database is away, as the requests found it; logs each change once."""

    def __init__(self) -> None:
        self.since: float | None = None

    def down(self, error: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.error("database unavailable (%s): answering 503", type(error).__name__)

    def up(self) -> None:
        if self.since is not None:
            log.warning("database available again after %.0f s", time.monotonic() - self.since)
            self.since = None


def unavailable(request: web.Request) -> web.Response:
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.path.startswith("/api/"):
        return web.json_response(
            {"error": "Сервис временно недоступен, повторите запрос позже."},
            status=503, headers=headers)
    return web.Response(text=PAGE, status=503, content_type="text/html", headers=headers)


def middleware(outage: Outage) -> Middleware:
    """The 503 middleware for one app's `outage` state."""

    @web.middleware
    async def database_outage(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException:
            outage.up()
            raise
        except Exception as error:
            if not is_outage(error):
                raise
            outage.down(error)
            return unavailable(request)
        outage.up()
        return response

    return database_outage
