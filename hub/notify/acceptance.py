"""The acceptance window: one message at a time per worker between "the provider may have
kept it" and "the hub has recorded it".

A worker killed after the SMTP server's 250 but before "sent" is committed loses that
record, and the message goes again (with the same Message-ID, counted as a possible
duplicate). With several sends in flight, several messages could be in that window when the
kill comes: each would be a duplicate. So each send takes a `Turn`: the channel calls
`begin()` just before the step after which the provider may keep the message (SMTP: the
final dot of DATA; MAIL, RCPT and the message's content stay concurrent), and the worker
ends the turn once the outcome is committed. One fault then costs at most one duplicate per worker.

A send whose turn does not come within `wait` seconds (another one stalled in DATA) goes on
without it, so a stall holds the others up for that long only; two messages may then be in
the window at once, which needs a stall and a kill together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

log = logging.getLogger(__name__)


class AcceptanceWindow:
    """One worker's window: at most one turn held at a time, waited for `wait` seconds."""

    def __init__(self, wait: float = 2.0) -> None:
        self.wait = wait
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        """A send's turn, ended (the window free again) when the block is left: after the
        send's outcome is recorded."""
        turn = Turn(self)
        try:
            yield turn
        finally:
            turn.end()

    async def _enter(self) -> bool:
        """Take the window, waiting at most `wait`; False when it did not come free."""
        try:
            async with asyncio.timeout(self.wait):  # no task of its own, unlike wait_for
                await self._lock.acquire()
        except TimeoutError:
            log.warning("another message held the acceptance window for %.1f s "
                        "(stalled?): sending without waiting", self.wait)
            return False
        return True

    def _leave(self) -> None:
        self._lock.release()


class Turn:
    """A send's place in its worker's acceptance window."""

    def __init__(self, window: AcceptanceWindow) -> None:
        self._window = window
        self._begun = False
        self._held = False

    async def begin(self) -> None:
        """Wait (at most the window's `wait`) until no other message of this worker is
        between its acceptance and its record; called once, just before the message's
        final part goes on the wire."""
        if self._begun:
            return
        self._begun = True
        self._held = await self._window._enter()

    def end(self) -> None:
        if self._held:
            self._held = False
            self._window._leave()
