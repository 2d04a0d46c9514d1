"""Typed keys of the application and of a request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from hub.auth.access import Principal
from hub.auth.identity import IdentityCache
from hub.auth.models import Account
from hub.auth.sessions import SessionStore
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
    badge: Callable[[web.Request], object] | None = None
    # The tables the badge counts in: it is counted again only after a write to one of
    # them (hub.http.badges); none, counted on every page.
    badge_tables: tuple[str, ...] = ()


SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
BROKER = web.AppKey("broker", Broker)  # type: ignore[type-abstract]
SESSIONS = web.AppKey("sessions", SessionStore)  # type: ignore[type-abstract]
IDENTITIES = web.AppKey("identities", IdentityCache)
REDIS = web.AppKey("redis", Redis | None)  # type: ignore[arg-type]
NAV = web.AppKey("nav", list[NavItem])
# Every package's personal data, for export and erasure (hub.compose.privacy_sources).
PRIVACY_SOURCES = web.AppKey("privacy_sources", tuple[PersonalDataSource, ...])

# Request keys (request[...]): set by the middlewares in hub.http.middlewares.
PRINCIPAL = web.RequestKey("principal", Principal | None)  # type: ignore[arg-type]
ACCOUNT = web.RequestKey("account", Account | None)  # type: ignore[arg-type]
SESSION_TOKEN = web.RequestKey("session_token", str)
CSRF_TOKEN = web.RequestKey("csrf_token", str)
BEARER = web.RequestKey("bearer", bool)
