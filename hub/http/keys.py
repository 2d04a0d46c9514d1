"""Typed keys of the application and of a request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from hub.auth.access import Principal
from hub.auth.identity import IdentityCache
from hub.auth.models import Account
from hub.auth.sessions import SessionStore
from hub.auth.throttle import SignInGuard
from hub.broker import Broker
from hub.config import Settings
from hub.db import Database
from hub.privacy import PersonalDataSource


@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation, shown to those `visible` lets through."""

    title: str
    path: str
    visible: Callable[[Principal], bool]
    order: int = 50
    # A coroutine function (request) -> int for a badge, e.g. the queue's item count.
    badge: Callable[[web.Request], Awaitable[Any]] | None = None
    # The tables the badge counts in: it is counted again only after a write to one of
    # them (hub.http.badges); none, counted on every page.
    badge_tables: tuple[str, ...] = ()


# Keys are declared by their type (web.AppKey[T]) rather than given the type as a value,
# which cannot name an abstract class or a union.
SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DB: web.AppKey[Database] = web.AppKey("db")
BROKER: web.AppKey[Broker] = web.AppKey("broker")
SESSIONS: web.AppKey[SessionStore] = web.AppKey("sessions")
SIGN_IN_GUARD: web.AppKey[SignInGuard] = web.AppKey("sign_in_guard")
IDENTITIES: web.AppKey[IdentityCache] = web.AppKey("identities")
REDIS: web.AppKey[Redis | None] = web.AppKey("redis")
NAV: web.AppKey[list[NavItem]] = web.AppKey("nav")
# Every package's personal data, for export and erasure (hub.compose.privacy_sources).
PRIVACY_SOURCES: web.AppKey[Sequence[PersonalDataSource]] = web.AppKey("privacy_sources")

# Request keys (request[...]): set by the middlewares in hub.http.middlewares.
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
ACCOUNT: web.RequestKey[Account | None] = web.RequestKey("account")
SESSION_TOKEN = web.RequestKey("session_token", str)
CSRF_TOKEN = web.RequestKey("csrf_token", str)
BEARER = web.RequestKey("bearer", bool)
