"""Domain events, handled inside the transaction that caused them.

A service emits an event with `await emit(session, event)`; every handler that the
composition root (hub.compose) attached for its type runs at once in the same session, so
the event's consequences (notifications, outbox rows, audit entries) commit or roll back
together with the cause. The handlers reach the session through the database it came from:
`Database(url, handlers=...)` gives each session its `EventHandlers`.

Two kinds of work wait: `defer(session, processor, event)` gathers events of one kind and
hands them to `processor` together just before the commit (a batch of 1,000 grades makes one
pass, not 1,000); `after_commit(session, callback)` runs only once the transaction has
committed (a live note to open pages, a wake-up to the workers). `Database.transaction()`
runs both, in that order, where a reader can see it.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, "Event"], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Event:
    school_id: int


# The hub's events. Fields are ids and plain values (never ORM objects), so handlers load
# what they need in the same session.


@dataclass(frozen=True, kw_only=True)
class GradePosted(Event):
    grade_id: int
    student_id: int
    # True when an existing grade was changed ("исправлена оценка").
    corrected: bool = False


@dataclass(frozen=True, kw_only=True)
class AttendanceMarked(Event):
    attendance_id: int
    student_id: int
    corrected: bool = False


@dataclass(frozen=True, kw_only=True)
class AnnouncementPublished(Event):
    announcement_id: int
    author_id: int
    urgent: bool = False


@dataclass(frozen=True, kw_only=True)
class ReplyPosted(Event):
    """A published post in a forum topic (subscribers are told)."""

    post_id: int
    topic_id: int
    author_id: int
    # The topic's followers but the author, when the service read them with the topic
    # (forum.notifications.followers_column); None: the handler reads them.
    followers: tuple[int, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class PostHeld(Event):
    """A message the detector or reports sent to the moderators' queue."""

    review_item_id: int
    author_id: int | None


@dataclass(frozen=True, kw_only=True)
class ModerationDecided(Event):
    """A moderator approved or rejected an item; its author is told."""

    review_item_id: int
    author_id: int | None
    decision: str  # "approved" | "rejected"
    reason: str = ""
    # What the author is told it was about: "topic" | "post" | "announcement", its title
    # (a post's topic), the start of its text, where it is, and whether a moderator edited it.
    kind: str = ""
    title: str = ""
    excerpt: str = ""
    url: str | None = None
    edited: bool = False


@dataclass(frozen=True, kw_only=True)
class AcknowledgementReminded(Event):
    """An announcement's author reminded those who have not confirmed reading it."""

    announcement_id: int
    person_ids: tuple[int, ...]


class EventHandlers:
    """Which handlers hear which events; built once by the composition root."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def on(self, event_type: type[Event], handler: Handler) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def for_event(self, event: Event) -> list[Handler]:
        return [handler for event_type in type(event).__mro__
                for handler in self._handlers.get(event_type, ())]


NO_HANDLERS = EventHandlers()
HANDLERS_KEY = "hub.event_handlers"
_DEFERRED_KEY = "hub.deferred"
_AFTER_COMMIT_KEY = "hub.after_commit"

Processor = Callable[[AsyncSession, list["Event"]], Awaitable[None]]


async def emit(session: AsyncSession, event: Event) -> None:
    handlers: EventHandlers = session.info.get(HANDLERS_KEY, NO_HANDLERS)
    for handler in handlers.for_event(event):
        await handler(session, event)


def defer(session: AsyncSession, processor: Processor, event: Event) -> None:
    """Note `event` for `processor`, which gets every event so noted at once before commit."""
    pending: dict[Processor, list[Event]] = session.info.setdefault(_DEFERRED_KEY, {})
    pending.setdefault(processor, []).append(event)


async def run_deferred(session: AsyncSession) -> None:
    """Handle what is noted so far (before the commit, or before reading its results in the
    same transaction)."""
    while pending := session.info.pop(_DEFERRED_KEY, None):
        for processor, events in pending.items():
            await processor(session, events)


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


_background: set[asyncio.Task[None]] = set()


def start_after_commit(session: AsyncSession) -> None:
    """Start what waited for the commit; a failure is logged, never raised to the caller,
    since the database already holds the truth."""
    for callback in session.info.pop(_AFTER_COMMIT_KEY, []):
        task = asyncio.get_running_loop().create_task(_guarded(callback))
        _background.add(task)
        task.add_done_callback(_background.discard)


def forget_pending(session: AsyncSession) -> None:
    """A rolled-back transaction takes what it noted with it."""
    session.info.pop(_DEFERRED_KEY, None)
    session.info.pop(_AFTER_COMMIT_KEY, None)


async def _guarded(callback: AfterCommit) -> None:
    try:
        await callback()
    except Exception:  # a lost live update must not break anything: the database has the truth
        log.exception("after-commit callback failed")


async def settle() -> None:
    """Wait for after-commit callbacks already started (tests, shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)
