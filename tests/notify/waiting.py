"""Waiting for something a worker does concurrently with the test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    read: Callable[[], Awaitable[T]], ok: Callable[[T], bool], within: float = 10.0
) -> bool:
    """Whether `read()` satisfies `ok` within `within` seconds (the worker runs
    concurrently with the test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if ok(await read()):
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
