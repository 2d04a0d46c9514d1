"""The database: SQLAlchemy 2 async engine and sessions, the declarative Base, UTC time.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is the production one.
The same models and queries run on both.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator

from hub.autocommit import AutocommitConnections
from hub.events import (
    HANDLERS_KEY,
    EventHandlers,
    forget_pending,
    run_deferred,
    start_after_commit,
)
from hub.sqlite_driver import OneTripDBAPI
from hub.stamps import TableStamps

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def str_enum(cls: type[enum.Enum], name: str, *, length: int = 32) -> Enum:
    """An enum column stored as its values in a VARCHAR (no native type to migrate)."""
    return Enum(cls, name=name, native_enum=False, length=length,
                values_callable=lambda members: [m.value for m in members])


async def changed_rows(session: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE, DELETE or INSERT and say how many rows it changed: the answer of a
    compare-and-set ("did my conditional UPDATE win?")."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            kwargs.setdefault("poolclass", StaticPool)
        else:
            # A few pooled connections: opening one costs a thread and the pragmas below.
            kwargs.setdefault("pool_size", 5)
            kwargs.setdefault("max_overflow", 5)
        kwargs.setdefault("connect_args", {"timeout": 10})
        # A session or connection ends its own transaction when it closes; the pool's
        # second ROLLBACK on return is one more hop to aiosqlite's thread per request.
        kwargs.setdefault("pool_reset_on_return", None)
        kwargs.setdefault("module", OneTripDBAPI())
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # No ping on every checkout (a round trip per request): connections are replaced after
    # half an hour, and one that the server closed is dropped by the error it raises
    # (SQLAlchemy invalidates the pool on a disconnect), so only that request fails.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


_WRITTEN = "hub.db.written"


def _watched_session_class(stamps: TableStamps) -> type[Session]:
    """A Session class whose commits bump the stamps of the tables they wrote (hub.stamps):
    rows flushed through the ORM and INSERT / UPDATE / DELETE statements run through the
    session. A subclass per database, so the listeners stay off other databases' sessions."""
    watched: type[Session] = type("WatchedSession", (Session,), {})

    def flushed(session: Session, _context: Any) -> None:
        written = session.info.setdefault(_WRITTEN, set())
        for obj in (*session.new, *session.dirty, *session.deleted):
            table = getattr(obj, "__tablename__", None)
            if table is not None:
                written.add(table)

    def executed(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            name = getattr(table, "name", None)
            if name is not None:
                state.session.info.setdefault(_WRITTEN, set()).add(name)

    def committed(session: Session) -> None:
        written = session.info.pop(_WRITTEN, None)
        if written:
            stamps.bump(written)

    def rolled_back(session: Session) -> None:
        session.info.pop(_WRITTEN, None)

    event.listen(watched, "after_flush", flushed)
    event.listen(watched, "do_orm_execute", executed)
    event.listen(watched, "after_commit", committed)
    event.listen(watched, "after_rollback", rolled_back)
    return watched


class Database:
    """The engine and a session factory; one per process. Every session it opens carries
    the event handlers the composition root gave it (hub.events)."""

    def __init__(self, url: str, *, handlers: EventHandlers | None = None,
                 stamps: TableStamps | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.handlers = handlers if handlers is not None else EventHandlers()
        self.stamps = stamps if stamps is not None else TableStamps()
        self.engine = make_engine(url, **engine_kwargs)
        self._engine_kwargs = engine_kwargs
        self._autocommits: AutocommitConnections | None = None
        watched = _watched_session_class(self.stamps)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={HANDLERS_KEY: self.handlers},
            sync_session_class=watched,
        )
        # Reads on PostgreSQL without BEGIN and ROLLBACK around them (two round trips of a
        # page that reads once); SQLite begins no transaction for a read anyway, and
        # switching its connections to autocommit would cost a trip to their thread.
        readers = self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="AUTOCOMMIT")
        self._reads = async_sessionmaker(
            readers, expire_on_commit=False, info={HANDLERS_KEY: self.handlers},
            sync_session_class=watched,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; the caller commits. Rolled back if the block raises."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: each statement sees the data as of its own start, as
        on SQLite, rather than one snapshot for the block (a page that reads once loses
        nothing). Nothing written through it is announced to the stamps' caches: write in
        `transaction()`."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed when the block ends: the events it
        deferred are handled just before the commit, its after-commit work starts after."""
        async with self.sessions() as session:
            try:
                async with session.begin():
                    yield session
                    await run_deferred(session)
            except BaseException:
                forget_pending(session)
                raise
            start_after_commit(session)

    async def create_all(self) -> None:
        """Create every table on Base.metadata (tests and an empty embedded database; see
        hub.migrations). The composition root, by importing every package, has put them
        there."""
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    @asynccontextmanager
    async def autocommit(self, *written: str) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits on its own: a write that is one
        compare-and-set statement takes one round trip instead of BEGIN, the statement
        and COMMIT. Such connections stay open between writes (hub.autocommit). `written`
        names the tables its statements change (for the stamps)."""
        if self._autocommits is None:
            self._autocommits = AutocommitConnections(self.engine, self._autocommit_engine)
        async with self._autocommits.connection() as conn:
            yield conn
        if written:
            self.stamps.bump(written)

    def _autocommit_engine(self) -> AsyncEngine:
        """Another engine for this database, with a small pool of autocommit connections."""
        options = {"pool_size": 2, "max_overflow": 4} | self._engine_kwargs
        return make_engine(self.url, **options | {"isolation_level": "AUTOCOMMIT"})

    async def dispose(self) -> None:
        if self._autocommits is not None:
            autocommits, self._autocommits = self._autocommits, None
            await autocommits.close()
        await self.engine.dispose()
