"""Fixtures shared by every test package: databases on SQLite and PostgreSQL, the web app,
a school builder."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from hub import clock as hub_clock
from hub import events
from hub.auth.secrets import use_cheap_hashing
from hub.clock import SetClock
from hub.compose import configure, event_handlers, web_app
from hub.config import Settings
from hub.db import Database
from tests.support.clock import SCHOOL_MORNING
from tests.support.school import SchoolBuilder
from tests.support.services import need_postgres

pytest_plugins = ["tests.support.processes"]  # database_url: a database for real hub processes

use_cheap_hashing()
configure(Settings(secret_key="test-secret-key-" + "x" * 32))


@pytest.fixture(autouse=True)
def clock() -> Iterator[SetClock]:
    """The hub's clock for this test: set to a school morning and running on (see
    tests/support/clock.py); a test about a particular hour sets or freezes it."""
    test_clock = SetClock(SCHOOL_MORNING, running=True)
    previous = hub_clock.use(test_clock)
    yield test_clock
    hub_clock.use(previous)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database with every table, on SQLite and on PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
                            handlers=event_handlers())
        await database.create_all()
        yield database
        await database.dispose()
        return
    url = need_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(url, handlers=event_handlers(),
                        connect_args={"server_settings": {"search_path": schema}})
    try:
        await database.create_all()
        yield database
    finally:
        await database.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests about behaviour that does not depend on the backend."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", handlers=event_handlers())
    await database.create_all()
    yield database
    await database.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture
async def school(db: Database) -> SchoolBuilder:
    return await SchoolBuilder(db).start()


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[TestClient]:
    app = web_app(settings, db=db)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await events.settle()
