"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

import hub.compose  # noqa: F401  (it imports every package, so every table is on Base.metadata)
from hub import migrate
from hub.db import Base, Database
from tests.support.services import need_postgres


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": migrate.include_name}
    )
    return compare_metadata(context, Base.metadata)


async def _check(db: Database) -> None:
    await migrate.upgrade(db)
    current, head = await migrate.state(db)
    assert current == head
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_sqlite_migrations_match_models(tmp_path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await _check(db)
    finally:
        await db.dispose()


async def test_postgresql_migrations_match_models() -> None:
    url = need_postgres()
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = Database(url, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(url.rsplit("/", 1)[0] + f"/{name}")
    try:
        await _check(db)
    finally:
        await db.dispose()
        async with admin.engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}"'))
        await admin.dispose()
