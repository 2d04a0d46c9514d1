"""Messages between processes: worker wake-ups and live page events.

In-process by default; Redis pub/sub when HUB_REDIS_URL is set, so that several web
instances and workers hear each other. Delivery is best effort: losing a message delays
something (a worker polls anyway, a page reloads) but loses no data.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis

log = logging.getLogger(__name__)

Message = dict[str, Any]


class Broker(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, *channels: str) -> Any:
        """`async with broker.subscribe("a", "b") as messages: async for channel, msg in
        messages: ...`"""
        ...

    async def close(self) -> None: ...


class InProcessBroker:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[tuple[str, Message]]]] = defaultdict(set)

    async def publish(self, channel: str, message: Message) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.qsize() < 1000:  # a stuck reader must not grow memory without bound
                queue.put_nowait((channel, message))

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[tuple[str, Message]]]:
        queue: asyncio.Queue[tuple[str, Message]] = asyncio.Queue()
        for channel in channels:
            self._queues[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            for channel in channels:
                self._queues[channel].discard(queue)
                if not self._queues[channel]:
                    del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[tuple[str, Message]]) -> AsyncIterator[tuple[str, Message]]:
    while True:
        yield await queue.get()


class RedisBroker:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def publish(self, channel: str, message: Message) -> None:
        try:
            await self.redis.publish(channel, json.dumps(message, ensure_ascii=False))
        except Exception as exc:  # Redis down: the database still has everything
            log.warning("broker publish to %s failed: %s", channel, type(exc).__name__)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[tuple[str, Message]]]:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*channels)
        try:
            yield self._listen(pubsub)
        finally:
            await pubsub.aclose()

    async def _listen(self, pubsub: Any) -> AsyncIterator[tuple[str, Message]]:
        async for raw in pubsub.listen():
            if raw.get("type") != "message":
                continue
            channel = raw["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            yield channel, json.loads(raw["data"])

    async def close(self) -> None:
        await self.redis.aclose()


# The process's broker, set by the composition root at start-up (hub.web.app, the worker).
# Services reach it from after-commit callbacks without threading it through every call.
_current: Broker = InProcessBroker()


def get_broker() -> Broker:
    return _current


def set_broker(broker: Broker) -> None:
    global _current
    _current = broker


def live_channel(kind: str, ident: int | str) -> str:
    """The channel open pages of one thing listen on: live_channel("topic", 12)."""
    return f"hub:live:{kind}:{ident}"
