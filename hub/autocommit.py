"""Connections in autocommit mode for one-statement writes, kept open between writes.

The delivery worker commits two one-statement writes per message (its "sending" mark and
its outcome). Checking a pooled connection out, switching it to autocommit and back, and
checking it in cost more CPU than the statement itself (on SQLite each switch is a hop to
aiosqlite's thread). So these connections are opened in autocommit mode, from a small pool
of their own, and kept open between writes: a write takes an idle one (or opens one) and
puts it back once its statement went through. One whose statement failed is closed (the
database may have restarted), and so is one left idle for longer than IDLE_SECONDS (a
server or a proxy may have dropped it meanwhile): the next write opens a fresh one.

An in-memory SQLite database lives in the one connection its engine shares: that one is
switched to autocommit for each write and back, as any pooled connection used to be.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

IDLE_SECONDS = 60.0


class AutocommitConnections:
    """The autocommit connections of one database."""

    def __init__(self, engine: AsyncEngine,
                 autocommit_engine: Callable[[], AsyncEngine]) -> None:
        """`engine`: the database's; `autocommit_engine()` makes another one for the same
        database whose connections are in autocommit mode."""
        self._keep = not isinstance(engine.pool, StaticPool)
        self._engine = (autocommit_engine() if self._keep
                        else engine.execution_options(isolation_level="AUTOCOMMIT"))
        self._idle: list[tuple[AsyncConnection, float]] = []  # the last used on top

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        conn = await self._take()
        try:
            yield conn
        except BaseException:
            await _close(conn)  # in an unknown state: never reused
            raise
        if self._keep:
            self._idle.append((conn, time.monotonic()))
        else:
            await conn.close()

    async def _take(self) -> AsyncConnection:
        while self._idle:
            conn, since = self._idle.pop()
            if time.monotonic() - since <= IDLE_SECONDS and not conn.closed:
                return conn
            await _close(conn)
        return await self._engine.connect()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            await _close(conn)
        if self._keep:
            await self._engine.dispose()


async def _close(conn: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await conn.close()
