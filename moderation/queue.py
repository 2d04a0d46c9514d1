"""The moderators' queue: holding, reports, claims and decisions.

Decisions are compare-and-set: one UPDATE that succeeds only while the item is pending and
not claimed by someone else, so of two moderators deciding at once one wins and the other
is told who did. Every decision lands in the audit log and emits ModerationDecided in the
same transaction; a live note for open queue pages follows the commit."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.broker import get_broker, live_channel
from hub.db import changed_rows
from hub.errors import Conflict, Invalid, NotFound, UserError
from hub.events import ModerationDecided, PostHeld, after_commit, emit
from hub.school import Person
from moderation import Category, Verdict, audit
from moderation.models import ItemSource, ItemStatus, Report, ReviewItem
from moderation.targets import TargetView, UnknownTarget, get_target

log = logging.getLogger(__name__)

REPORTS_TO_HIDE = 3  # distinct reporters after which an item is hidden until decided
CLAIM_FOR = dt.timedelta(minutes=10)
UNDO_WITHIN = dt.timedelta(minutes=5)
MAX_REASON = 500
MAX_TEXT = 20_000
REJECT_REASONS = (
    "Оскорбление участников",
    "Нецензурная лексика",
    "Грубость и неуважительный тон",
    "Не по теме раздела",
    "Личные данные в открытом доступе",
    "Реклама или спам",
)


class ItemNotFound(NotFound):
    """No such item (or message) in this school's queue."""


class ItemConflict(Conflict):
    """Someone else decided, claimed or reported first; the message says who or what."""


class BadInput(Invalid):
    """A reason, a text or a choice the queue cannot take."""


# -- entering the queue -------------------------------------------------------------------------


def verdict_json(verdict: Verdict | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    return {
        "action": verdict.action.value,
        "score": verdict.score,
        "categories": sorted(c.value for c in verdict.categories),
        "reasons": [
            {"start": r.start, "end": r.end, "matched": r.matched, "rule": r.rule,
             "category": r.category.value, "score": r.score}
            for r in verdict.reasons
        ],
    }


def _source_of(verdict: Verdict | None) -> ItemSource:
    if verdict is not None and any(
        r.category is Category.WATCHED for r in verdict.reasons
    ) and not (verdict.categories - {Category.WATCHED}):
        return ItemSource.WATCHED
    return ItemSource.DETECTOR


async def _target_view(session: AsyncSession, kind: str, target_id: int) -> TargetView | None:
    try:
        target = get_target(kind)
    except UnknownTarget:
        return None
    return await target.view(session, target_id)


async def _item_for(session: AsyncSession, kind: str, target_id: int) -> ReviewItem | None:
    return await session.scalar(
        select(ReviewItem).where(ReviewItem.kind == kind, ReviewItem.target_id == target_id)
    )


def _requeue(item: ReviewItem, source: ItemSource) -> None:
    item.status = ItemStatus.PENDING
    item.source = source
    item.decided_by_id = item.decided_at = item.decision_reason = None
    item.claimed_by_id = item.claimed_until = None
    item.queued_at = clock.now()


async def _new_item(
    session: AsyncSession, *, school_id: int, kind: str, target_id: int,
    author_id: int | None, source: ItemSource, verdict: dict[str, Any] | None,
) -> ReviewItem:
    """Create the target's item, or take the one a concurrent request just created."""
    view = await _target_view(session, kind, target_id)
    item = ReviewItem(
        school_id=school_id, kind=kind, target_id=target_id, author_id=author_id,
        status=ItemStatus.PENDING, source=source, verdict=verdict, hidden=False,
        section=view.section if view else "", class_id=view.class_id if view else None,
        place=view.where[:300] if view else "",
    )
    try:
        async with session.begin_nested():
            session.add(item)
    except IntegrityError:
        existing = await _item_for(session, kind, target_id)
        if existing is None:
            raise
        return existing
    return item


async def hold(
    session: AsyncSession, *, school_id: int, kind: str, target_id: int,
    author_id: int | None, verdict: Verdict | None,
) -> ReviewItem:
    """Put a held message in the queue (emits PostHeld in the same transaction)."""
    source = _source_of(verdict)
    item = await _item_for(session, kind, target_id)
    if item is None:
        item = await _new_item(session, school_id=school_id, kind=kind, target_id=target_id,
                               author_id=author_id, source=source,
                               verdict=verdict_json(verdict))
    else:  # an edited message held again
        if item.school_id != school_id:
            raise ItemNotFound("Сообщение не найдено.")
        _requeue(item, source)
        item.verdict = verdict_json(verdict)
    await session.flush()
    await emit(session, PostHeld(school_id=school_id, review_item_id=item.id,
                                 author_id=author_id))
    _notify_queue(session, school_id, "held", item.id)
    log.info("review item %s held (%s %s)", item.id, kind, target_id)
    return item


async def report(
    session: AsyncSession, *, school_id: int, kind: str, target_id: int, reporter_id: int,
    reason: str,
) -> ReviewItem:
    """A reader's report. One per person per item; at REPORTS_TO_HIDE distinct reporters the
    target is hidden until a moderator decides."""
    reason = reason.strip()
    if not reason:
        raise BadInput("Укажите, что не так с сообщением.")
    if len(reason) > MAX_REASON:
        raise BadInput(f"Причина длиннее {MAX_REASON} символов.")
    view = await _target_view(session, kind, target_id)
    if view is None or view.school_id != school_id:
        raise ItemNotFound("Сообщение не найдено.")
    if view.author_id == reporter_id:
        raise BadInput("Нельзя пожаловаться на своё сообщение.")
    item = await _item_for(session, kind, target_id)
    entered = False
    if item is None:
        item = await _new_item(session, school_id=school_id, kind=kind, target_id=target_id,
                               author_id=view.author_id, source=ItemSource.REPORT,
                               verdict=None)
        entered = True
    elif item.status is ItemStatus.REJECTED:
        raise ItemConflict("Это сообщение уже отклонено модератором.")
    elif item.status is ItemStatus.APPROVED:  # new complaints after a decision: look again
        _requeue(item, ItemSource.REPORT)
        item.hidden = False
        entered = True
    await session.flush()
    try:
        async with session.begin_nested():
            session.add(Report(item_id=item.id, reporter_id=reporter_id, reason=reason))
    except IntegrityError:
        raise ItemConflict("Вы уже пожаловались на это сообщение.") from None
    reporters = await session.scalar(
        select(func.count(Report.id)).where(
            Report.item_id == item.id, Report.created_at >= item.queued_at
        )
    ) or 0
    if reporters >= REPORTS_TO_HIDE and not item.hidden:
        item.hidden = True
        await get_target(kind).hide(session, target_id)
        log.info("review item %s hidden after %s reports", item.id, reporters)
    if entered:
        await emit(session, PostHeld(school_id=school_id, review_item_id=item.id,
                                     author_id=item.author_id))
    _notify_queue(session, school_id, "reported", item.id)
    return item


async def pending_count(session: AsyncSession, school_id: int) -> int:
    return await session.scalar(
        select(func.count(ReviewItem.id)).where(
            ReviewItem.school_id == school_id, ReviewItem.status == ItemStatus.PENDING
        )
    ) or 0


# -- reading the queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    section: str | None = None
    source: ItemSource | None = None
    author_id: int | None = None
    status: ItemStatus = ItemStatus.PENDING


async def items(
    session: AsyncSession, school_id: int, filters: QueueFilter = QueueFilter(),
    *, limit: int = 200,
) -> Sequence[ReviewItem]:
    """The queue, oldest first (decided items: newest decision first)."""
    query = select(ReviewItem).where(
        ReviewItem.school_id == school_id, ReviewItem.status == filters.status
    )
    if filters.section:
        query = query.where(ReviewItem.section == filters.section)
    if filters.source is not None:
        query = query.where(ReviewItem.source == filters.source)
    if filters.author_id is not None:
        query = query.where(ReviewItem.author_id == filters.author_id)
    if filters.status is ItemStatus.PENDING:
        query = query.order_by(ReviewItem.queued_at, ReviewItem.id)
    else:
        query = query.order_by(ReviewItem.decided_at.desc(), ReviewItem.id.desc())
    return (await session.scalars(query.limit(limit))).all()


async def get_item(session: AsyncSession, school_id: int, item_id: int) -> ReviewItem:
    item = await session.get(ReviewItem, item_id, populate_existing=True)
    if item is None or item.school_id != school_id:
        raise ItemNotFound("Пункт очереди не найден.")
    return item


async def reports_of(session: AsyncSession, item_id: int) -> Sequence[Report]:
    return (await session.scalars(
        select(Report).where(Report.item_id == item_id).order_by(Report.created_at)
    )).all()


async def target_view(session: AsyncSession, item: ReviewItem) -> TargetView | None:
    return await _target_view(session, item.kind, item.target_id)


async def sections(session: AsyncSession, school_id: int) -> dict[str, str]:
    """The sections items came from, for the filter: key -> what people call it."""
    rows = await session.execute(
        select(ReviewItem.section, ReviewItem.place)
        .where(ReviewItem.school_id == school_id, ReviewItem.section != "")
    )
    labels: dict[str, str] = {}
    for key, place in rows:
        label = "Доска объявлений" if key == "board" else place.split(" › ")[0] or key
        labels.setdefault(key, label)
    return dict(sorted(labels.items(), key=lambda kv: kv[1]))


# -- claims and decisions -----------------------------------------------------------------------


def _open_to(moderator_id: int, now: dt.datetime) -> Any:
    return or_(
        ReviewItem.claimed_by_id.is_(None),
        ReviewItem.claimed_by_id == moderator_id,
        ReviewItem.claimed_until < now,
    )


async def _name(session: AsyncSession, person_id: int | None) -> str:
    person = await session.get(Person, person_id) if person_id is not None else None
    return person.short_name if person is not None else "другой модератор"


async def _why_not(session: AsyncSession, school_id: int, item_id: int, me: int) -> ItemConflict:
    """Explain why a compare-and-set on the item changed nothing."""
    item = await get_item(session, school_id, item_id)
    if item.status is not ItemStatus.PENDING:
        if item.decided_by_id == me:
            return ItemConflict("Вы уже обработали этот пункт.")
        return ItemConflict(
            f"Этот пункт уже обработал {await _name(session, item.decided_by_id)}."
        )
    if item.claimed_by_id not in (None, me):
        who = await _name(session, item.claimed_by_id)
        return ItemConflict(f"Этот пункт взял в работу {who}.")
    return ItemConflict("Этот пункт сейчас нельзя изменить.")


async def claim(
    session: AsyncSession, *, school_id: int, item_id: int, moderator_id: int
) -> ReviewItem:
    """Take an item for CLAIM_FOR so that nobody else decides it meanwhile."""
    now = clock.now()
    changed = await changed_rows(session,
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.school_id == school_id,
               ReviewItem.status == ItemStatus.PENDING, _open_to(moderator_id, now))
        .values(claimed_by_id=moderator_id, claimed_until=now + CLAIM_FOR)
        .execution_options(synchronize_session=False)
    )
    if not changed:
        raise await _why_not(session, school_id, item_id, moderator_id)
    _notify_queue(session, school_id, "claimed", item_id)
    return await get_item(session, school_id, item_id)


async def release(
    session: AsyncSession, *, school_id: int, item_id: int, moderator_id: int
) -> None:
    await session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.school_id == school_id,
               ReviewItem.claimed_by_id == moderator_id)
        .values(claimed_by_id=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    _notify_queue(session, school_id, "released", item_id)


async def _decide(
    session: AsyncSession, *, school_id: int, item_id: int, moderator_id: int,
    status: ItemStatus, reason: str | None,
) -> ReviewItem:
    now = clock.now()
    changed = await changed_rows(session,
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.school_id == school_id,
               ReviewItem.status == ItemStatus.PENDING, _open_to(moderator_id, now))
        .values(status=status, decided_by_id=moderator_id, decided_at=now,
                decision_reason=reason, claimed_by_id=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if not changed:
        raise await _why_not(session, school_id, item_id, moderator_id)
    return await get_item(session, school_id, item_id)


_TAGS = re.compile(r"<[^>]+>")


def _about(view: TargetView | None) -> dict[str, Any]:
    """What the author's notice names: the kind, the title or place, the text's start."""
    if view is None:
        return {}
    words = " ".join(html.unescape(_TAGS.sub(" ", view.text)).split())
    title = view.title or view.where.rsplit("›", 1)[-1].strip()
    return {"kind": view.kind, "title": title, "url": view.url,
            "excerpt": words if len(words) <= 120 else words[:119].rstrip() + "…"}


def _full_text(view: TargetView | None) -> str | None:
    if view is None:
        return None
    return f"{view.title}\n\n{view.text}" if view.title else view.text


async def approve(
    session: AsyncSession, *, school_id: int, item_id: int, moderator_id: int,
    title: str | None = None, text: str | None = None,
) -> ReviewItem:
    """Publish the item, edited when `title` or `text` is given."""
    edited = title is not None or text is not None
    if text is not None and not text.strip():
        raise BadInput("Текст не может быть пустым.")
    if text is not None and len(text) > MAX_TEXT:
        raise BadInput(f"Текст длиннее {MAX_TEXT} символов.")
    item = await _decide(session, school_id=school_id, item_id=item_id,
                         moderator_id=moderator_id, status=ItemStatus.APPROVED, reason=None)
    target = get_target(item.kind)
    view = await target.view(session, item.target_id)
    before = _full_text(view)
    await target.publish(session, item.target_id, title=title, text=text)
    if edited:
        view = await target.view(session, item.target_id)
    after = _full_text(view) if edited else before
    item.hidden = False
    await audit.record(session, school_id=school_id, actor_id=moderator_id,
                       action="edit_approve" if edited else "approve", item_id=item.id,
                       kind=item.kind, target_id=item.target_id, subject_id=item.author_id,
                       text_before=before, text_after=after)
    await emit(session, ModerationDecided(school_id=school_id, review_item_id=item.id,
                                          author_id=item.author_id, decision="approved",
                                          edited=edited, **_about(view)))
    _notify_queue(session, school_id, "decided", item.id)
    log.info("review item %s approved by %s", item.id, moderator_id)
    return item


def rejection_reason(canned: str, free: str) -> str:
    """The reason told to the author: a canned reason, free text, or both."""
    canned, free = canned.strip(), free.strip()
    if canned and canned not in REJECT_REASONS:
        raise BadInput("Неизвестная причина.")
    reason = f"{canned}. {free}" if canned and free else (canned or free)
    if not reason:
        raise BadInput("Укажите причину отклонения.")
    if len(reason) > MAX_REASON:
        raise BadInput(f"Причина длиннее {MAX_REASON} символов.")
    return reason


async def reject(
    session: AsyncSession, *, school_id: int, item_id: int, moderator_id: int, reason: str,
) -> ReviewItem:
    reason = reason.strip()
    if not reason:
        raise BadInput("Укажите причину отклонения.")
    if len(reason) > MAX_REASON:
        raise BadInput(f"Причина длиннее {MAX_REASON} символов.")
    item = await _decide(session, school_id=school_id, item_id=item_id,
                         moderator_id=moderator_id, status=ItemStatus.REJECTED, reason=reason)
    target = get_target(item.kind)
    view = await target.view(session, item.target_id)
    before = _full_text(view)
    await target.reject(session, item.target_id, reason)
    await audit.record(session, school_id=school_id, actor_id=moderator_id, action="reject",
                       item_id=item.id, kind=item.kind, target_id=item.target_id,
                       subject_id=item.author_id, text_before=before, note=reason)
    await emit(session, ModerationDecided(school_id=school_id, review_item_id=item.id,
                                          author_id=item.author_id, decision="rejected",
                                          reason=reason, **_about(view)))
    _notify_queue(session, school_id, "decided", item.id)
    log.info("review item %s rejected by %s", item.id, moderator_id)
    return item


async def undo(
    session: AsyncSession, *, school_id: int, item_id: int, actor_id: int,
    any_moderator: bool = False,
) -> ReviewItem:
    """Take a decision back within UNDO_WITHIN: the item is pending again and the target
    goes back to how it was. Only the moderator who decided, or (`any_moderator`) a
    coordinator."""
    now = clock.now()
    who = [] if any_moderator else [ReviewItem.decided_by_id == actor_id]
    item = await get_item(session, school_id, item_id)
    previous = item.status
    changed = await changed_rows(session,
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.school_id == school_id,
               ReviewItem.status.in_([ItemStatus.APPROVED, ItemStatus.REJECTED]),
               ReviewItem.decided_at > now - UNDO_WITHIN, *who)
        .values(status=ItemStatus.PENDING, decided_by_id=None, decided_at=None,
                decision_reason=None)
        .execution_options(synchronize_session=False)
    )
    if not changed:
        item = await get_item(session, school_id, item_id)
        if item.status is ItemStatus.PENDING:
            raise ItemConflict("Решение по этому пункту уже отменено.")
        if item.decided_by_id != actor_id and not any_moderator:
            raise ItemConflict("Отменить решение может только тот, кто его принял.")
        raise ItemConflict("Время на отмену решения прошло.")
    item = await get_item(session, school_id, item_id)
    target = get_target(item.kind)
    await target.restore(session, item.target_id)
    await audit.record(session, school_id=school_id, actor_id=actor_id, action="undo",
                       item_id=item.id, kind=item.kind, target_id=item.target_id,
                       subject_id=item.author_id, note=f"было: {previous.value}")
    _notify_queue(session, school_id, "undone", item.id)
    return item


@dataclass(frozen=True)
class BulkResult:
    item_id: int
    ok: bool
    message: str = ""


async def decide_many(
    session: AsyncSession, *, school_id: int, item_ids: Sequence[int], moderator_id: int,
    decision: str, reason: str = "",
) -> list[BulkResult]:
    """Approve or reject several items; each one independently (one lost race does not
    undo the others)."""
    if decision not in ("approve", "reject"):
        raise BadInput("Неизвестное действие.")
    if decision == "reject" and not reason.strip():
        raise BadInput("Укажите причину отклонения.")
    if not item_ids:
        raise BadInput("Не выбрано ни одного пункта.")
    results = []
    for item_id in dict.fromkeys(item_ids):
        try:
            async with session.begin_nested():
                if decision == "approve":
                    await approve(session, school_id=school_id, item_id=item_id,
                                  moderator_id=moderator_id)
                else:
                    await reject(session, school_id=school_id, item_id=item_id,
                                 moderator_id=moderator_id, reason=reason)
            results.append(BulkResult(item_id, True))
        except UserError as exc:
            results.append(BulkResult(item_id, False, exc.message))
    return results


# -- live notes -----------------------------------------------------------------------------


def _notify_queue(session: AsyncSession, school_id: int, what: str, item_id: int) -> None:
    async def publish() -> None:
        await get_broker().publish(live_channel("queue", school_id),
                                   {"event": what, "item": item_id})

    after_commit(session, publish)


async def names_of(session: AsyncSession, person_ids: set[int | None]) -> dict[int, str]:
    """People's short names for the moderators' pages."""
    ids = {i for i in person_ids if i is not None}
    if not ids:
        return {}
    rows = await session.scalars(select(Person).where(Person.id.in_(ids)))
    return {p.id: p.short_name for p in rows}
