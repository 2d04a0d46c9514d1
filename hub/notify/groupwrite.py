"""Group commit for the worker's writes: many concurrent sends, one statement.

A worker has several sends in flight; each needs a row written (its "sending" mark before
the wire, its outcome after). Writing each in its own transaction costs a round trip and a
commit per message. A `GroupWriter` lets every caller wait for its own result while the
writes that arrived together go out as one call of `write`: the first caller writes at once
(no added latency when alone) and whoever arrives meanwhile joins the next write.

`parallel` writes may run at once (PostgreSQL commits them side by side; SQLite has one
writer, so there it is 1): a caller who finds a write running starts another at once
while there is room, so nothing waits long before its commit; only callers who arrive
while every slot is busy are grouped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupWriter(Generic[T, R]):
    """Calls `write(items)` (one result per item, in order) for the items submitted
    while every one of the `parallel` writes allowed at once was running."""

    def __init__(self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *,
                 parallel: int = 1) -> None:
        self._write = write
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._slots = asyncio.Semaphore(max(1, parallel))

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        async with self._slots:
            if self._waiting:  # else a write that took ours is running: wait for it
                batch, self._waiting = self._waiting, []
                await self._flush(batch)
        return await future

    async def _flush(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else RuntimeError("write cancelled")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
