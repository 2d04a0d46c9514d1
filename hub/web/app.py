"""The aiohttp application factory: the composition root of the web process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis
from sqlalchemy import text

from hub.auth.identity import IdentityCache
from hub.auth.sessions import DatabaseSessionStore, RedisSessionStore
from hub.auth.throttle import DatabaseCounter, RedisCounter, SignInGuard
from hub.broker import InProcessBroker, RedisBroker, get_broker, set_broker
from hub.config import Settings
from hub.db import Database
from hub.http import headers, inputs, middlewares, outage
from hub.http.keys import (
    BROKER,
    DB,
    IDENTITIES,
    NAV,
    REDIS,
    SESSIONS,
    SETTINGS,
    SIGN_IN_GUARD,
)
from hub.http.render import setup_templates

STATIC = Path(__file__).parent / "static"
HEALTH_TIMEOUT = 2.0  # seconds for each dependency to answer /healthz
MAX_BODY = 25 * 1024 * 1024  # attachments; JSON bodies have their own, smaller limit


def create_app(
    settings: Settings, *, db: Database, template_packages: tuple[str, ...] = ("hub.web",)
) -> web.Application:
    """The kernel's application: middlewares, services, templates, health and metrics. The
    composition root (hub.compose.web_app) adds every package's pages to it."""
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[
            middlewares.errors,
            outage.middleware(outage.Outage()),
            middlewares.metrics,
            inputs.inputs,
            middlewares.identity,
            middlewares.csrf,
        ],
    )
    app[SETTINGS] = settings
    app[DB] = db
    app[NAV] = []
    headers.setup(app)
    app.cleanup_ctx.append(_services)
    setup_templates(app, template_packages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static/", STATIC, name="static")
    return app


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    app[REDIS] = redis
    app[BROKER] = RedisBroker(redis) if redis else InProcessBroker()
    previous = get_broker()
    set_broker(app[BROKER])
    app[SESSIONS] = RedisSessionStore(redis) if redis else DatabaseSessionStore(app[DB])
    app[SIGN_IN_GUARD] = SignInGuard(RedisCounter(redis) if redis else DatabaseCounter(app[DB]))
    app[IDENTITIES] = IdentityCache(app[DB], app[SESSIONS])
    yield
    if get_broker() is app[BROKER]:
        set_broker(previous)  # what the process had before this app, not a closed broker
    await app[BROKER].close()


async def healthz(request: web.Request) -> web.Response:
    """200 when the database (and Redis, when configured) answer; else 503 naming what is
    down, so a load balancer and an operator both know which dependency to look at."""
    down = []
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), request.app[DB].session() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        down.append("database")
    redis = request.app.get(REDIS)
    if redis is not None:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await redis.ping()
        except Exception:
            down.append("redis")
    if down:
        return web.json_response({"status": "unavailable", "down": down}, status=503,
                                 headers={"Retry-After": str(outage.RETRY_AFTER)})
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response
