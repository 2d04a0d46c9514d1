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
    title, body = decision_texts(event)
    await enqueue(session, event.school_id, [(event.author_id, None)], Message(
        kind=NotificationKind.MODERATION, title=title, body=body, url=event.url,
        source_kind="review_item", source_id=event.review_item_id,
    ))


# What the author's message was: its name, and the past participle for a decision on it.
_KINDS: dict[str, tuple[str, str, str]] = {
    "topic": ("Ваша тема", "опубликована", "отклонена"),
    "post": ("Ваш ответ", "опубликован", "отклонён"),
    "announcement": ("Ваше объявление", "опубликовано", "отклонено"),
}


def decision_texts(event: ModerationDecided) -> tuple[str, str]:
    """The notice's title and body: which message, in which topic, what was decided, why,
    whether a moderator edited it, and the start of its text."""
    what, published, rejected = _KINDS.get(event.kind, ("Ваше сообщение", "опубликовано",
                                                         "отклонено"))
    where = ""
    if event.title:
        where = f" в теме «{event.title}»" if event.kind == "post" else f" «{event.title}»"
    approved = event.decision == "approved"
    title = f"{what}{where} {published if approved else rejected + ' модератором'}"
    lines = []
    if approved:
        lines.append("Модератор проверил и опубликовал его."
                     if event.kind != "topic" else "Модератор проверил и опубликовал её.")
        if event.edited:
            lines.append("Перед публикацией модератор исправил текст.")
    else:
        lines.append(f"Причина: {event.reason}" if event.reason else "Причина не указана.")
    if event.excerpt:
        lines.append(f"Начало текста: «{event.excerpt}»")
    return title, "\n".join(lines)


def subscribe(handlers: EventHandlers) -> None:
    handlers.on(ModerationDecided, on_moderation_decided)
