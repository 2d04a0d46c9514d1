"""What the queue moderates: announcements, topics and posts, reached through the packages
that own them. The composition root (hub.compose) registers the forum's targets, one per
kind, at the start of every process; the queue never imports the forum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class TargetView:
    kind: str  # "announcement" | "topic" | "post"
    target_id: int
    school_id: int
    author_id: int | None
    title: str  # "" for posts
    text: str  # the sanitized body (safe HTML from the forum's sanitizer)
    where: str  # a label for people: "Форум 5А › Экскурсия в музей"
    url: str  # the path that shows it in context
    class_id: int | None  # the class it belongs to, if any
    section: str  # "board" | "forum:<section id>", for the queue's section filter


class ReviewTarget(Protocol):
    kind: str

    async def view(self, session: AsyncSession, target_id: int) -> TargetView | None: ...

    async def publish(
        self, session: AsyncSession, target_id: int, *, title: str | None = None,
        text: str | None = None,
    ) -> None:
        """Approve, optionally edited (the target sanitizes the new text again)."""
        ...

    async def reject(self, session: AsyncSession, target_id: int, reason: str) -> None: ...

    async def hide(self, session: AsyncSession, target_id: int) -> None:
        """Reported by several people: hidden from readers until a moderator decides."""
        ...

    async def restore(self, session: AsyncSession, target_id: int) -> None:
        """A decision undone: back to held (or visible, as it was before)."""
        ...


class UnknownTarget(LookupError):
    pass


_targets: dict[str, ReviewTarget] = {}


def register_target(target: ReviewTarget) -> None:
    """Register (or replace) the target for `target.kind`; idempotent."""
    _targets[target.kind] = target


def get_target(kind: str) -> ReviewTarget:
    try:
        return _targets[kind]
    except KeyError:
        raise UnknownTarget(kind) from None

