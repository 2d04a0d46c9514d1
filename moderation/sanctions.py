"""Warnings and mutes of authors. A muted author's messages are refused until the end date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ScalarSelect, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.db import changed_rows
from hub.errors import Invalid
from hub.school import Person
from moderation import audit
from moderation.models import Sanction, SanctionKind

MAX_MUTE = dt.timedelta(days=365)
MAX_REASON = 500


class SanctionError(Invalid):
    """Bad input for a sanction; the message is for people."""


async def active_mute(session: AsyncSession, person_id: int) -> dt.datetime | None:
    """When the person's longest running mute ends, or None."""
    return await session.scalar(select(mute_until(person_id, clock.now())))


_SANCTIONS = cast(Table, Sanction.__table__)


def mute_until(person_id: Any, now: Any) -> ScalarSelect[dt.datetime | None]:
    """active_mute as a column, to be read with other things in one statement (values or
    bound parameters). Of the table, not the mapped class: a Core statement stays Core."""
    return select(func.max(_SANCTIONS.c.until)).where(
        _SANCTIONS.c.person_id == person_id,
        _SANCTIONS.c.kind == SanctionKind.MUTE,
        _SANCTIONS.c.until > now,
    ).scalar_subquery()


async def _author(session: AsyncSession, school_id: int, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or person.school_id != school_id:
        raise SanctionError("Автор не найден.")
    return person


def _reason(reason: str) -> str:
    value = reason.strip()
    if not value:
        raise SanctionError("Укажите причину.")
    if len(value) > MAX_REASON:
        raise SanctionError(f"Причина длиннее {MAX_REASON} символов.")
    return value


async def warn(
    session: AsyncSession, *, school_id: int, person_id: int, by_id: int, reason: str,
    item_id: int | None = None,
) -> Sanction:
    await _author(session, school_id, person_id)
    sanction = Sanction(school_id=school_id, person_id=person_id, kind=SanctionKind.WARN,
                        reason=_reason(reason), by_id=by_id, item_id=item_id)
    session.add(sanction)
    await session.flush()
    await audit.record(session, school_id=school_id, actor_id=by_id, action="warn",
                       item_id=item_id, subject_id=person_id, note=sanction.reason)
    return sanction


async def mute(
    session: AsyncSession, *, school_id: int, person_id: int, by_id: int, reason: str,
    duration: dt.timedelta, item_id: int | None = None,
) -> Sanction:
    if duration <= dt.timedelta(0) or duration > MAX_MUTE:
        raise SanctionError("Срок запрета — от часа до года.")
    if person_id == by_id:
        raise SanctionError("Нельзя запретить писать самому себе.")
    await _author(session, school_id, person_id)
    until = clock.now() + duration
    sanction = Sanction(school_id=school_id, person_id=person_id, kind=SanctionKind.MUTE,
                        until=until, reason=_reason(reason), by_id=by_id, item_id=item_id)
    session.add(sanction)
    await session.flush()
    await audit.record(session, school_id=school_id, actor_id=by_id, action="mute",
                       item_id=item_id, subject_id=person_id,
                       note=f"до {until.isoformat(timespec='minutes')}: {sanction.reason}")
    return sanction


async def unmute(session: AsyncSession, *, school_id: int, person_id: int, by_id: int) -> int:
    """End every running mute of the person now; returns how many were running."""
    now = clock.now()
    changed = await changed_rows(session,
        update(Sanction)
        .where(Sanction.school_id == school_id, Sanction.person_id == person_id,
               Sanction.kind == SanctionKind.MUTE, Sanction.until > now)
        .values(until=now)
    )
    if changed:
        await audit.record(session, school_id=school_id, actor_id=by_id, action="unmute",
                           subject_id=person_id)
    return changed


async def history(session: AsyncSession, school_id: int, person_id: int) -> Sequence[Sanction]:
    rows = await session.scalars(
        select(Sanction)
        .where(Sanction.school_id == school_id, Sanction.person_id == person_id)
        .order_by(Sanction.created_at.desc())
    )
    return rows.all()
