"""Group commit (hub.notify.groupwrite): callers who arrive while a write runs share the
next one; a failed write fails exactly the callers it carried."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from hub.notify.groupwrite import GroupWriter


async def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    writes: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        writes.append(list(items))
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    writer: GroupWriter[int, int] = GroupWriter(write)
    results = await asyncio.gather(*(writer.submit(i) for i in range(9)))
    assert results == [i * 10 for i in range(9)]
    assert writes[0] == [0] and len(writes) == 2
    assert sorted(i for w in writes for i in w) == list(range(9))


async def test_a_failed_write_fails_its_callers_and_the_next_write_goes_on() -> None:
    calls = 0

    async def write(items: Sequence[int]) -> list[bool]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise ConnectionError("database away")
        return [True for _ in items]

    writer: GroupWriter[int, bool] = GroupWriter(write)
    first = asyncio.create_task(writer.submit(1))
    await asyncio.sleep(0)
    later = asyncio.create_task(writer.submit(2))
    with pytest.raises(ConnectionError):
        await first
    assert await later is True


async def test_with_room_for_parallel_writes_a_caller_does_not_wait_for_a_running_one() -> None:
    running = 0
    most = 0
    writes: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        writes.append(list(items))
        await asyncio.sleep(0.01)
        running -= 1
        return list(items)

    writer: GroupWriter[int, int] = GroupWriter(write, parallel=3)
    results = await asyncio.gather(*(writer.submit(i) for i in range(9)))
    assert results == list(range(9))
    assert most == 3
    # The first three went out alone, each at once; the rest were grouped behind them.
    assert writes[:3] == [[0], [1], [2]] and len(writes) == 4
