"""What the moderators' queue can do to announcements, topics and posts
(moderation.targets.ReviewTarget)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum import board, notifications, sanitize, search, topics
from forum.live import note_after_commit
from forum.models import Announcement, AnnouncementClass, Post, Section, Status, Topic
from hub.school import SchoolClass
from moderation.targets import TargetView

Item = Announcement | Topic | Post


def _published(item: Item) -> None:
    item.status, item.hidden, item.reject_reason = Status.PUBLISHED, False, None


def _hidden(item: Item) -> None:
    item.hidden = True


def _restored(item: Item) -> None:
    item.hidden = False
    item.reject_reason = None
    item.status = Status.HELD if item.was_held else Status.PUBLISHED


def _rejected(reason: str) -> Callable[[Item], None]:
    def change(item: Item) -> None:
        item.status, item.hidden, item.reject_reason = Status.REJECTED, False, reason

    return change


class _Target:
    """Reject, hide and restore change every row of an item the same way; a target says
    which rows make up the item and which open pages to tell."""

    async def _rows(self, session: AsyncSession, target_id: int) -> Sequence[Item]:
        raise NotImplementedError

    def _note(self, session: AsyncSession, rows: Sequence[Item]) -> None:
        raise NotImplementedError

    async def _change(
        self, session: AsyncSession, target_id: int, change: Callable[[Item], None]
    ) -> None:
        rows = await self._rows(session, target_id)
        for row in rows:
            change(row)
        await session.flush()
        self._note(session, rows)

    async def reject(self, session: AsyncSession, target_id: int, reason: str) -> None:
        await self._change(session, target_id, _rejected(reason))

    async def hide(self, session: AsyncSession, target_id: int) -> None:
        await self._change(session, target_id, _hidden)

    async def restore(self, session: AsyncSession, target_id: int) -> None:
        await self._change(session, target_id, _restored)


class AnnouncementTarget(_Target):
    kind = "announcement"

    async def view(self, session: AsyncSession, target_id: int) -> TargetView | None:
        a = await session.get(Announcement, target_id)
        if a is None:
            return None
        class_ids = list(await session.scalars(
            select(AnnouncementClass.class_id)
            .where(AnnouncementClass.announcement_id == a.id)
        ))
        return TargetView(
            kind=self.kind, target_id=a.id, school_id=a.school_id, author_id=a.author_id,
            title=a.title, text=a.body_html, where=f"Доска объявлений › {a.title}",
            url=f"/board/{a.id}", class_id=class_ids[0] if len(class_ids) == 1 else None,
            section="board",
        )

    async def publish(
        self, session: AsyncSession, target_id: int, *, title: str | None = None,
        text: str | None = None,
    ) -> None:
        a = await session.get_one(Announcement, target_id)
        if title is not None and title.strip():
            a.title = sanitize.escape_title(title)[:200]
        if text is not None and text.strip():
            a.body_source, a.body_html = sanitize.from_moderator(text)
        _published(a)
        await session.flush()
        await board.announce_if_due(session, a)
        self._note(session, [a])

    async def reject(self, session: AsyncSession, target_id: int, reason: str) -> None:
        """Taken down: its notices that have not gone out are withdrawn, as on deletion."""
        await super().reject(session, target_id, reason)
        await notifications.announcement_withdrawn(session, target_id)

    async def hide(self, session: AsyncSession, target_id: int) -> None:
        """Hidden until a moderator decides: its notices that have not gone out are
        withdrawn, as on deletion."""
        await super().hide(session, target_id)
        await notifications.announcement_withdrawn(session, target_id)

    async def _rows(self, session: AsyncSession, target_id: int) -> Sequence[Item]:
        return [await session.get_one(Announcement, target_id)]

    def _note(self, session: AsyncSession, rows: Sequence[Item]) -> None:
        note_after_commit(session, "board", rows[0].school_id, announcement=rows[0].id)


async def _where(session: AsyncSession, topic: Topic) -> tuple[str, int | None, int]:
    section = await session.get_one(Section, topic.section_id)
    label = section.title
    if section.class_id is not None:
        school_class = await session.get(SchoolClass, section.class_id)
        label = f"Форум {school_class.name}" if school_class else section.title
    return f"{label} › {topic.title}", section.class_id, section.id


class TopicTarget(_Target):
    """A topic with its opening post: approved, rejected or hidden together."""

    kind = "topic"

    async def _load(self, session: AsyncSession, target_id: int) -> tuple[Topic, Post] | None:
        topic = await session.get(Topic, target_id)
        if topic is None:
            return None
        opening = await session.scalar(
            select(Post).where(Post.topic_id == topic.id, Post.is_opening)
        )
        return (topic, opening) if opening is not None else None

    async def view(self, session: AsyncSession, target_id: int) -> TargetView | None:
        found = await self._load(session, target_id)
        if found is None:
            return None
        topic, opening = found
        where, class_id, section_id = await _where(session, topic)
        return TargetView(
            kind=self.kind, target_id=topic.id, school_id=topic.school_id,
            author_id=topic.author_id, title=topic.title, text=opening.body_html, where=where,
            url=f"/forum/topics/{topic.id}", class_id=class_id, section=f"forum:{section_id}",
        )

    async def publish(
        self, session: AsyncSession, target_id: int, *, title: str | None = None,
        text: str | None = None,
    ) -> None:
        topic, opening = await self._get(session, target_id)
        if title is not None and title.strip():
            topic.title = sanitize.escape_title(title)[:200]
        if text is not None and text.strip():
            opening.body_source, opening.body_html = sanitize.from_moderator(text)
        _published(topic)
        _published(opening)
        await session.flush()
        await search.index_post(session, opening)
        await topics.announce_post(session, topic, opening)

    async def _get(self, session: AsyncSession, target_id: int) -> tuple[Topic, Post]:
        found = await self._load(session, target_id)
        if found is None:
            raise LookupError(f"topic {target_id}")
        return found

    async def _rows(self, session: AsyncSession, target_id: int) -> Sequence[Item]:
        return await self._get(session, target_id)

    def _note(self, session: AsyncSession, rows: Sequence[Item]) -> None:
        topic, opening = rows
        note_after_commit(session, "topic", topic.id, post=opening.id)


class PostTarget(_Target):
    kind = "post"

    async def view(self, session: AsyncSession, target_id: int) -> TargetView | None:
        post = await session.get(Post, target_id)
        if post is None:
            return None
        topic = await session.get_one(Topic, post.topic_id)
        where, class_id, section_id = await _where(session, topic)
        return TargetView(
            kind=self.kind, target_id=post.id, school_id=post.school_id,
            author_id=post.author_id, title="", text=post.body_html, where=where,
            url=f"/forum/topics/{topic.id}#post-{post.id}", class_id=class_id,
            section=f"forum:{section_id}",
        )

    async def publish(
        self, session: AsyncSession, target_id: int, *, title: str | None = None,
        text: str | None = None,
    ) -> None:
        post = await session.get_one(Post, target_id)
        if text is not None and text.strip():
            post.body_source, post.body_html = sanitize.from_moderator(text)
        _published(post)
        await session.flush()
        await search.index_post(session, post)
        topic = await session.get_one(Topic, post.topic_id)
        await topics.announce_post(session, topic, post)

    async def _rows(self, session: AsyncSession, target_id: int) -> Sequence[Item]:
        return [await session.get_one(Post, target_id)]

    def _note(self, session: AsyncSession, rows: Sequence[Item]) -> None:
        (post,) = rows
        assert isinstance(post, Post)
        note_after_commit(session, "topic", post.topic_id, post=post.id)


# What the moderation queue can act on here; the composition root registers them.
TARGETS = (AnnouncementTarget(), TopicTarget(), PostTarget())
