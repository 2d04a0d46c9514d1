"""Autocommit writes (hub.autocommit), on connections kept open between writes: each
statement is committed when it returns, and a connection the database server dropped in
the meantime costs only the write that found it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.db import Database
from hub.school import create_school
from tests.support.services import need_postgres


async def test_a_write_is_committed_when_its_statement_returns(db: Database) -> None:
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", "school1")
    for name in ("Школа № 2", "Школа № 3"):  # the second write reuses the connection
        async with db.autocommit("schools") as conn:
            await conn.execute(text("UPDATE schools SET name = :name WHERE id = :id"),
                               {"name": name, "id": school.id})
        async with db.session() as session:  # another connection sees it at once
            assert await session.scalar(text("SELECT name FROM schools")) == name


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_after_the_server_dropped_the_connection_the_next_write_goes_through(
    db: Database,
) -> None:
    async with db.autocommit() as conn:
        dropped = await conn.scalar(text("SELECT pg_backend_pid()"))
    admin = Database(need_postgres())
    try:
        async with admin.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    finally:
        await admin.dispose()

    with pytest.raises(DBAPIError):  # the write that found it dropped fails
        async with db.autocommit() as conn:
            await conn.execute(text("SELECT 1"))
    async with db.autocommit() as conn:
        assert await conn.scalar(text("SELECT pg_backend_pid()")) != dropped
