"""The one source of "now" for the whole hub.

Every deadline the hub keeps is a comparison with now: quiet hours and digest slots, delivery
leases and retries, scheduled and expiring announcements, invitation, session and link
expiry, edit and undo windows, sign-in throttling. They all ask `now()` here, never the
machine's clock directly, and queries pass this instant to the database instead of calling
SQL's `now()`, so that SQLite, PostgreSQL and the Python side agree on one time.

The process runs on `SystemClock` unless the composition root (or a test) installs another
with `use()`. Tests install a `SetClock`: it starts at an instant the test names and then
either stands still or moves on with real elapsed time, so that a test says which hour it
runs at and never depends on the machine's hour or time zone.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, an aware datetime in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class SetClock:
    """A clock set to a chosen instant: frozen there, or running on from it at real speed
    (measured with the monotonic clock, so that a change of the machine's time does not
    move it)."""

    def __init__(self, at: dt.datetime, *, running: bool = False) -> None:
        self.set(at, running=running)

    def set(self, at: dt.datetime, *, running: bool | None = None) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock is set to an aware datetime")
        self._at = at.astimezone(dt.UTC)
        self._since = time.monotonic()
        if running is not None:
            self.running = running

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self.set(self.now() + delta)
        return self.now()

    def freeze(self) -> dt.datetime:
        self.set(self.now(), running=False)
        return self._at

    def now(self) -> dt.datetime:
        if not self.running:
            return self._at
        return self._at + dt.timedelta(seconds=time.monotonic() - self._since)


_current: Clock = SystemClock()


def now() -> dt.datetime:
    """The current instant (aware, UTC) from the installed clock."""
    return _current.now()


def current() -> Clock:
    return _current


def use(clock: Clock) -> Clock:
    """Install `clock` for the process; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous
