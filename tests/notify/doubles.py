"""A test channel: records envelopes, and can be told to fail."""

from __future__ import annotations

import asyncio
from collections import deque

from hub.notify.acceptance import Turn
from hub.notify.channel import ChannelName, Envelope, PermanentFailure, TemporaryFailure


class RecordingChannel:
    def __init__(self, name: ChannelName = ChannelName.EMAIL) -> None:
        self.name = name
        self.sent: list[Envelope] = []
        self.failures: deque[Exception] = deque()
        self.delay = 0.0
        self.closed = False
        self._arrived = asyncio.Condition()

    def fail_next(self, *failures: Exception) -> None:
        self.failures.extend(failures)

    def temporary(self, reason: str = "451 try later", retry_after: float | None = None
                  ) -> TemporaryFailure:
        return TemporaryFailure(reason, retry_after)

    def permanent(self, reason: str = "550 no such user", *, fallback: bool = False
                  ) -> PermanentFailure:
        return PermanentFailure(reason, fallback_to_email=fallback)

    async def send(self, envelope: Envelope, turn: Turn | None = None) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.popleft()
        self.sent.append(envelope)
        async with self._arrived:
            self._arrived.notify_all()
        return f"{self.name}-{envelope.delivery_id}"

    async def aclose(self) -> None:
        self.closed = True

    def to(self, address: str) -> list[Envelope]:
        return [e for e in self.sent if e.address == address]

    async def wait_for(self, count: int, within: float = 30.0) -> None:
        """Until `count` envelopes have been sent (TimeoutError after `within` seconds)."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.sent) >= count)
