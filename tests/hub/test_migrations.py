"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
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


# Journal rows as they stood before source ids were namespaced (0005): the grid's, a CSV
# import's, a teacher's API session's and a token's, in a school with two journal tokens.
BEFORE_0005 = [
    "INSERT INTO schools (id, name, slug, created_at) VALUES (1, 'Школа', 's', CURRENT_TIMESTAMP)",
    "INSERT INTO people (id, school_id, last_name, first_name, created_at)"
    " VALUES (7, 1, 'У', 'Ч', CURRENT_TIMESTAMP), (8, 1, 'У', 'А', CURRENT_TIMESTAMP)",
    "INSERT INTO api_tokens (id, school_id, name, token_hash, scopes, created_at) VALUES"
    " (3, 1, 'admin', 'h3', 'admin', CURRENT_TIMESTAMP),"
    " (4, 1, 'journal', 'h4', 'journal', CURRENT_TIMESTAMP),"
    " (5, 1, 'journal 2', 'h5', 'admin journal', CURRENT_TIMESTAMP)",
    *(
        f"INSERT INTO {table} (school_id, student_id, {columns}, source, source_id, teacher_id,"
        " created_at, updated_at, corrected) VALUES"
        f" (1, 8, {values}, 'web', 'web:g:1', 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false),"
        f" (1, 8, {values}, 'csv', 'C-1', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false),"
        f" (1, 8, {values}, 'api', 'T-1', 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false),"
        f" (1, 8, {values}, 'api', 'J-1', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false)"
        for table, columns, values in (
            ("grades", "subject, lesson_date, value", "'М', '2026-11-30', 5"),
            ("attendance", "lesson_date, status", "'2026-11-30', 'absent'"),
        )
    ),
]


def _upgrade_to(connection: Connection, url: str, revision: str) -> None:
    config = migrate.alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def _check_journal_keys(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_upgrade_to, db.url, "0004")
        for statement in BEFORE_0005:
            await connection.execute(text(statement))
        await connection.run_sync(_upgrade_to, db.url, "head")
    async with db.engine.connect() as connection:
        for table in ("grades", "attendance"):
            rows = await connection.execute(
                text(f"SELECT source_id, source_key FROM {table} ORDER BY id"))
            assert [tuple(r) for r in rows] == [
                ("web:g:1", "web"), ("C-1", "csv"), ("T-1", "teacher:7"), ("J-1", "token:4")]


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def _postgresql() -> AsyncIterator[Database]:
    """A new, empty database on the test server (a schema is not enough: migrations run
    against the whole database)."""
    url = need_postgres()
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = Database(url, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}"'))
        await admin.dispose()


async def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    async with _sqlite(tmp_path / "m.db") as db:
        await _check(db)


async def test_postgresql_migrations_match_models() -> None:
    async with _postgresql() as db:
        await _check(db)


async def test_sqlite_journal_rows_get_their_source_key(tmp_path: Path) -> None:
    async with _sqlite(tmp_path / "j.db") as db:
        await _check_journal_keys(db)


async def test_postgresql_journal_rows_get_their_source_key() -> None:
    async with _postgresql() as db:
        await _check_journal_keys(db)
