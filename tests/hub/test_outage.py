"""The database away (hub.http.outage, /healthz): 503 with Retry-After and a short Russian
page or JSON error, one log line per outage, and /healthz naming the dependency."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.compose import web_app
from hub.config import Settings
from hub.db import Database

# Nothing listens on port 1: every connection is refused, as with PostgreSQL down.
UNREACHABLE = "postgresql+asyncpg://hub:hub@127.0.0.1:1/hub"


async def test_pages_and_api_answer_503_while_the_database_is_down(
    settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    db = Database(UNREACHABLE, pool_pre_ping=False)
    app = web_app(settings.model_copy(update={"embedded_worker": False}), db=db)
    caplog.set_level(logging.INFO, logger="hub.web")
    try:
        async with TestClient(TestServer(app)) as client:
            client.session.cookie_jar.update_cookies({"hub_session": "x" * 43})
            for _ in range(3):
                page = await client.get("/profile")
                assert page.status == 503 and page.headers["Retry-After"] == "10"
                assert "временно недоступен" in await page.text()
            api = await client.get("/api/v1/me")
            assert api.status == 503 and "error" in await api.json()

            client.session.cookie_jar.clear()  # a load balancer's probe
            health = await client.get("/healthz")
            assert health.status == 503 and health.headers["Retry-After"]
            assert await health.json() == {"status": "unavailable", "down": ["database"]}
    finally:
        await db.dispose()
    outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outage_lines) == 1
    assert not [r for r in caplog.records if r.exc_info and r.name == "hub.web"]


async def test_healthz_is_ok_when_the_database_answers(
    settings: Settings, sqlite_db: Database
) -> None:
    async with TestClient(TestServer(web_app(settings, db=sqlite_db))) as client:
        health = await client.get("/healthz")
        assert health.status == 200 and await health.json() == {"status": "ok"}
