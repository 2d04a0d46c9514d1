"""Domain events, handled inside the transaction that caused them.

A service emits an event with `await emit(session, event)`; every handler subscribed to its
type runs at once in the same session, so the event's consequences (notifications, outbox
rows, audit entries) commit or roll back together with the cause. Work that must wait for
the commit (a live update to open pages, a wake-up to the workers) is queued with
`after_commit` and runs only if the transaction commits.

Handlers are subscribed by the composition root (`hub.components`), never by the kernel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, "Event"], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None]]

_handlers: dict[type[Event], list[Handler]] = defaultdict(list)
_AFTER_COMMIT_KEY = "hub.after_commit"


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


@dataclass(frozen=True, kw_only=True)
class AcknowledgementReminded(Event):
    """An announcement's author reminded those who have not confirmed reading it."""

    announcement_id: int
    person_ids: tuple[int, ...]


def subscribe(event_type: type[Event], handler: Handler) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unsubscribe_all() -> None:
    """Tests only: forget every handler."""
    _handlers.clear()


async def emit(session: AsyncSession, event: Event) -> None:
    for event_type in type(event).__mro__:
        for handler in _handlers.get(event_type, ()):  # type: ignore[arg-type]
            await handler(session, event)


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    session.sync_session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


_background: set[asyncio.Task[None]] = set()


@sa_event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT_KEY, [])
    if not callbacks:
        return
    loop = asyncio.get_running_loop()
    for callback in callbacks:
        task = loop.create_task(_guarded(callback))
        _background.add(task)
        task.add_done_callback(_background.discard)


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
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


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)
