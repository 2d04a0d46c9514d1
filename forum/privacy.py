"""Personal data in the board and the forum (hub.privacy): export a person's announcements,
topics, posts and acknowledgements; erase by unlinking them from what they wrote (the
texts stay for the others in the conversation, shown as «удалённый пользователь»)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.models import (
    Acknowledgement,
    Announcement,
    AnnouncementRevision,
    Post,
    Subscription,
    Topic,
    TopicRead,
)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class ForumPersonalData:
    name = "forum"

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        announcements = await session.scalars(
            select(Announcement).where(Announcement.author_id == person_id)
            .order_by(Announcement.id)
        )
        topics = await session.scalars(
            select(Topic).where(Topic.author_id == person_id).order_by(Topic.id)
        )
        posts = await session.scalars(
            select(Post).where(Post.author_id == person_id).order_by(Post.id)
        )
        acks = await session.execute(
            select(Acknowledgement.announcement_id, Acknowledgement.at)
            .where(Acknowledgement.person_id == person_id)
            .order_by(Acknowledgement.announcement_id)
        )
        subscriptions = await session.scalars(
            select(Subscription.topic_id).where(Subscription.person_id == person_id)
        )
        return {
            "announcements": [
                {"id": a.id, "title": a.title, "text": a.body_source, "status": a.status.value,
                 "created_at": _when(a.created_at), "deleted_at": _when(a.deleted_at)}
                for a in announcements
            ],
            "topics": [{"id": t.id, "title": t.title, "created_at": _when(t.created_at)}
                       for t in topics],
            "posts": [
                {"id": p.id, "topic_id": p.topic_id, "text": p.body_source,
                 "status": p.status.value, "created_at": _when(p.created_at)}
                for p in posts
            ],
            "acknowledgements": [{"announcement_id": a, "at": _when(at)} for a, at in acks],
            "subscriptions": list(subscriptions),
        }

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        for authored in (Announcement, Topic, Post):
            await session.execute(
                update(authored).where(authored.author_id == person_id)
                .values(author_id=None, form_token=None)
            )
        await session.execute(
            update(AnnouncementRevision).where(AnnouncementRevision.edited_by_id == person_id)
            .values(edited_by_id=None)
        )
        for own in (Acknowledgement, Subscription, TopicRead):
            await session.execute(delete(own).where(own.person_id == person_id))


PRIVACY = ForumPersonalData()
