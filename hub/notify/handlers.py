"""Moderation decisions as notifications: the author is told whether their message was
published or rejected (and why).

Runs inside the transaction that recorded the decision, so the decision, its notification
and its deliveries commit together. The domains that know their own audiences (the
journal, the board and the forum) enqueue their notifications from their own handlers.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.events import Event, EventHandlers, ModerationDecided
from hub.notify import recipients
from hub.notify.channel import NotificationKind
from hub.notify.outbox import Message, enqueue


async def on_moderation_decided(session: AsyncSession, event: Event) -> None:
    assert isinstance(event, ModerationDecided)
    if event.author_id is None or not await recipients.person_if_consenting(
        session, event.school_id, event.author_id
    ):
        return
    if event.decision == "approved":
        title, body = "Ваше сообщение опубликовано", "Модератор проверил и опубликовал его."
    else:
        title = "Ваше сообщение отклонено модератором"
        body = f"Причина: {event.reason}" if event.reason else "Причина не указана."
    await enqueue(session, event.school_id, [(event.author_id, None)], Message(
        kind=NotificationKind.MODERATION, title=title, body=body, url=None,
        source_kind="review_item", source_id=event.review_item_id,
    ))


def subscribe(handlers: EventHandlers) -> None:
    handlers.on(ModerationDecided, on_moderation_decided)
