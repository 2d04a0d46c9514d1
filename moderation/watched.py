"""A school's watched words: administered in the UI, effective at once on every instance.

Each change writes a new random stamp for the school (in the same transaction); the
detector cache below is keyed by that stamp, so every instance rebuilds its detector on the
first message after a change, without a restart and without relying on Redis."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ScalarSelect, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import moderation
from hub.db import changed_rows
from hub.errors import Invalid
from moderation import Detector, WatchAction, WatchedWord
from moderation.models import WatchedWordRow, WatchedWordsVersion

MAX_PATTERN = 100
# Letters, digits, spaces, hyphens and the wildcards * (any letters) and ? (one letter).
_PATTERN_RE = re.compile(r"^[\w\-*? ]+$")
ACTION_TITLES = {"hold": "задержать для модератора", "refuse": "отклонить сразу",
                 "mask": "скрыть звёздочками"}


class WatchedWordError(Invalid):
    """A pattern or action that cannot be saved; the message is for people."""


def clean_pattern(pattern: str) -> str:
    value = " ".join(pattern.split()).lower()
    if not value:
        raise WatchedWordError("Введите слово или шаблон.")
    if len(value) > MAX_PATTERN:
        raise WatchedWordError(f"Шаблон длиннее {MAX_PATTERN} символов.")
    if not _PATTERN_RE.fullmatch(value) or "_" in value:
        raise WatchedWordError(
            "В шаблоне допустимы буквы, цифры, пробел, дефис и знаки * и ?."
        )
    if sum(ch.isalnum() for ch in value) < 2:
        raise WatchedWordError("В шаблоне должно быть хотя бы две буквы.")
    return value


def clean_action(action: str) -> WatchAction:
    try:
        return WatchAction(action)
    except ValueError:
        raise WatchedWordError("Выберите действие: задержать, отклонить или скрыть.") from None


async def list_words(session: AsyncSession, school_id: int) -> Sequence[WatchedWordRow]:
    rows = await session.scalars(
        select(WatchedWordRow)
        .where(WatchedWordRow.school_id == school_id)
        .order_by(WatchedWordRow.pattern)
    )
    return rows.all()


async def add_word(
    session: AsyncSession, *, school_id: int, pattern: str, action: str, created_by: int | None
) -> WatchedWordRow:
    value, act = clean_pattern(pattern), clean_action(action)
    exists = await session.scalar(
        select(WatchedWordRow.id).where(
            WatchedWordRow.school_id == school_id, WatchedWordRow.pattern == value
        )
    )
    if exists is not None:
        raise WatchedWordError("Такой шаблон уже есть в списке.")
    row = WatchedWordRow(school_id=school_id, pattern=value, action=act.value,
                         created_by_id=created_by)
    session.add(row)
    await session.flush()
    await _new_stamp(session, school_id)
    return row


async def remove_word(
    session: AsyncSession, *, school_id: int, word_id: int
) -> WatchedWordRow | None:
    """Remove a word; returns it (as it was), or None if the school has no such word."""
    row = await session.scalar(
        select(WatchedWordRow).where(
            WatchedWordRow.id == word_id, WatchedWordRow.school_id == school_id
        )
    )
    if row is None:
        return None
    await session.execute(delete(WatchedWordRow).where(WatchedWordRow.id == row.id))
    await _new_stamp(session, school_id)
    return row


async def _new_stamp(session: AsyncSession, school_id: int) -> None:
    stamp = uuid.uuid4().hex
    changed = await changed_rows(session,
        update(WatchedWordsVersion)
        .where(WatchedWordsVersion.school_id == school_id)
        .values(stamp=stamp)
    )
    if changed:
        return
    try:
        async with session.begin_nested():
            session.add(WatchedWordsVersion(school_id=school_id, stamp=stamp))
    except IntegrityError:  # another transaction created the row first
        await session.execute(
            update(WatchedWordsVersion)
            .where(WatchedWordsVersion.school_id == school_id)
            .values(stamp=stamp)
        )


# -- the per-school detector cache ------------------------------------------------------------


@dataclass
class _Options:
    refuse_obscene: bool = False


_options = _Options()
_lock = threading.Lock()
_cache: dict[int, tuple[str, bool, Detector]] = {}


def configure(*, refuse_obscene: bool) -> None:
    """Set from settings.obscenity_action at start-up (hub's composition root)."""
    _options.refuse_obscene = refuse_obscene


_VERSIONS = cast(Table, WatchedWordsVersion.__table__)


def words_stamp(school_id: Any) -> ScalarSelect[str | None]:
    """The version of the school's watched words, as a column (None: never changed). Of
    the table, not the mapped class: a Core statement stays Core."""
    return select(_VERSIONS.c.stamp).where(_VERSIONS.c.school_id == school_id).scalar_subquery()


async def detector_for(session: AsyncSession, school_id: int, *,
                       stamp: str | None = None) -> Detector:
    """The default detector plus the school's watched words, rebuilt when they change.
    `stamp`: the words' version (words_stamp, "" when never changed) if already read."""
    if stamp is None:
        stamp = await session.scalar(select(words_stamp(school_id))) or ""
    cached = _cache.get(school_id)
    if cached is not None and cached[0] == stamp and cached[1] == _options.refuse_obscene:
        return cached[2]
    words = [
        WatchedWord(row.pattern, WatchAction(row.action))
        for row in await list_words(session, school_id)
    ] if stamp else []
    detector = moderation.default_detector().rebuild(
        watched=words, refuse_obscene=_options.refuse_obscene
    )
    with _lock:
        _cache[school_id] = (stamp, _options.refuse_obscene, detector)
    return detector
