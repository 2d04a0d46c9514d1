"""The moderators' decisions as labelled examples: what was held, what they decided, why.

Every approve and reject is an example in the school's own language. The text is the one
the moderator saw before deciding (the audit log's ``text_before``, sanitized HTML read
back to words), so an edit-and-approve teaches from the original, not the corrected text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderation.highlight import text_of
from moderation.models import AuditEntry, ItemStatus, ReviewItem

# Canned reasons that are about where or what, not about the language: such a rejection
# says nothing about whether the words were abusive.
NOT_ABOUT_LANGUAGE = (
    "Не по теме раздела",
    "Личные данные в открытом доступе",
    "Реклама или спам",
)
_DECISIONS = ("approve", "edit_approve", "reject")


@dataclass(frozen=True, slots=True)
class Decision:
    """One decided item. ``abusive`` is the label: True when rejected or edited for its
    language, False when approved as it was, None when the decision says nothing about
    language (rejected as off-topic, spam, personal data)."""

    item_id: int
    text: str
    action: str  # approve | edit_approve | reject
    reason: str | None
    rules: tuple[str, ...]  # the detector's rules that held it (none for reader reports)
    source: str  # detector | report | watched

    @property
    def abusive(self) -> bool | None:
        if self.action == "approve":
            return False
        if self.action == "reject" and self.reason \
                and self.reason.startswith(NOT_ABOUT_LANGUAGE):
            return None
        return True


def _rules_of(verdict: dict | None) -> tuple[str, ...]:
    if not verdict:
        return ()
    out: list[str] = []
    for r in verdict.get("reasons", ()):
        rule = str(r.get("rule", "")).removeprefix("title:")
        if rule and rule not in out:
            out.append(rule)
    return tuple(out)


async def decided(session: AsyncSession, school_id: int) -> list[Decision]:
    """The school's decided items with the text each decision was made on (the latest
    decision of an item counts; an undone decision is pending again and left out)."""
    items: Sequence[ReviewItem] = (await session.scalars(
        select(ReviewItem).where(
            ReviewItem.school_id == school_id,
            ReviewItem.status.in_((ItemStatus.APPROVED, ItemStatus.REJECTED)),
        ).order_by(ReviewItem.id)
    )).all()
    if not items:
        return []
    latest: dict[int, AuditEntry] = {}
    entries = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.school_id == school_id, AuditEntry.action.in_(_DECISIONS),
            AuditEntry.item_id.in_([i.id for i in items]),
        ).order_by(AuditEntry.id)
    )
    for e in entries:
        if e.item_id is not None:
            latest[e.item_id] = e
    out = []
    for item in items:
        entry = latest.get(item.id)
        if entry is None or not entry.text_before:
            continue
        out.append(Decision(item.id, text_of(entry.text_before), entry.action,
                            item.decision_reason, _rules_of(item.verdict),
                            item.source.value))
    return out
