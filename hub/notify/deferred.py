"""Handling a transaction's events together, just before it commits.

A batch of 1,000 grades emits 1,000 events; handling each on its own costs a dozen queries
apiece. A handler here only notes the event; just before the transaction commits, every
noted event is handled at once in the same transaction (so the cause and its notifications
still commit or roll back together).

SQLAlchemy's `before_commit` hook is synchronous, but an AsyncSession commits inside a
greenlet, where `await_only` may run the asynchronous work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_session
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_only

from hub.events import Event

Processor = Callable[[AsyncSession, list[Event]], Awaitable[None]]

_KEY = "hub.notify.deferred"


def defer(session: AsyncSession, processor: Processor, event: Event) -> None:
    pending: dict[Processor, list[Event]] = session.sync_session.info.setdefault(_KEY, {})
    pending.setdefault(processor, []).append(event)


async def run_pending(session: AsyncSession) -> None:
    """Handle what is noted now (before reading the notifications in the same
    transaction)."""
    pending: dict[Processor, list[Event]] = session.sync_session.info.pop(_KEY, {})
    for processor, events in pending.items():
        await processor(session, events)


@sa_event.listens_for(Session, "before_commit")
def _before_commit(sync_session: Session) -> None:
    if not sync_session.info.get(_KEY):
        return
    session = async_session(sync_session)
    if session is None:  # a synchronous session: not one the hub's services use
        raise RuntimeError("notifications noted in a synchronous session")
    await_only(run_pending(session))


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(sync_session: Session, transaction: SessionTransaction) -> None:
    # Rolled back or closed without a commit: what was noted goes with it.
    if transaction.parent is None:
        sync_session.info.pop(_KEY, None)
