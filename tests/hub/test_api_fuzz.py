"""The JSON API under schemathesis: requests generated from /api/v1/openapi.json, within a
bounded budget, against the running hub on PostgreSQL with a token of every scope. No
answer may be a server error, and every status must be one the document lists."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy import text

from hub.auth.access import TokenScope
from hub.auth.tokens import issue_token
from hub.compose import event_handlers, web_app
from hub.config import Settings
from hub.db import Database
from hub.school import Role
from tests.support.school import SchoolBuilder
from tests.support.services import need_postgres


@dataclass
class RunningHub:
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
def running_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """The whole web app on a port of its own, served from a thread with its own event
    loop (schemathesis sends its requests synchronously), over a fresh PostgreSQL schema
    holding a small school."""
    url = need_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "var"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[web.AppRunner, Database, Database, RunningHub]:
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db = Database(url, handlers=event_handlers(),
                      connect_args={"server_settings": {"search_path": schema}})
        await db.create_all()
        school = await SchoolBuilder(db).start()
        child = await school.student("5А")
        await school.parent_of(child)
        await school.teacher_of("5А")
        await school.person(Role.COORDINATOR)
        async with db.transaction() as session:
            issued = await issue_token(session, school.school_id, "schemathesis",
                                       list(TokenScope))
        app = web_app(Settings(data_dir=data_dir, secret_key="fuzz-secret-key-" + "x" * 32,
                               embedded_worker=False), db=db)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, db, admin, RunningHub(
            f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {issued.secret}"})

    runner, db, admin, hub = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    yield hub

    async def stop() -> None:
        await runner.cleanup()
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(60)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_no_server_errors_and_only_documented_answers(running_hub: RunningHub) -> None:
    schema = schemathesis.openapi.from_url(f"{running_hub.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=5000, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def answers_well(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=running_hub.url, headers=running_hub.headers,
                                   checks=[not_a_server_error, status_code_conformance],
                                   timeout=10)

        answers_well()
