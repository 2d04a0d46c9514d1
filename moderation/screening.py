"""The one gate every announcement, topic and post passes before it is saved: the author's
mute, then the school's detector (the default one plus the school's watched words)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ScalarSelect, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from moderation import Action, Category, Verdict
from moderation.sanctions import mute_until
from moderation.watched import detector_for, words_stamp

_zone = {"tz": ZoneInfo("Europe/Moscow")}


def configure(*, tz: ZoneInfo) -> None:
    """The zone end dates are told in (settings.tz), set at start-up."""
    _zone["tz"] = tz


@dataclass(frozen=True)
class Screening:
    action: Literal["allow", "hold", "refuse"]
    verdict: Verdict | None  # None if the author is muted
    text: str  # what to store: watched words set to "mask" are masked
    title: str
    message: str  # for the author when refused (Russian)
    muted_until: dt.datetime | None


@dataclass(frozen=True)
class Facts:
    """What screening reads from the database: the author's mute (None: not muted) and
    the version of the school's watched words (None: never changed)."""

    muted_until: dt.datetime | None
    words: str | None


def facts_columns(author_id: Any, now: Any, school_id: Any
                  ) -> tuple[ScalarSelect[dt.datetime | None], ScalarSelect[str | None]]:
    """Facts as two columns (values or bound parameters), for a caller that reads them in
    its own statement with what it reads anyway."""
    return mute_until(author_id, now), words_stamp(school_id)


@functools.cache
def _facts_statement() -> Select[dt.datetime | None, str | None]:
    """The author's mute and the version of the school's words, built once."""
    return select(*facts_columns(bindparam("author_id"), bindparam("now"),
                                 bindparam("school_id")))


async def screen(
    session: AsyncSession, *, school_id: int, author_id: int, title: str, text: str,
    facts: Facts | None = None,
) -> Screening:
    """Screen a text; `facts` if the caller has read them (facts_columns) in this
    transaction, else one statement reads them."""
    if facts is None:
        facts = Facts(*(await session.execute(_facts_statement(), {
            "author_id": author_id, "now": clock.now(), "school_id": school_id,
        })).one())
    muted_until, words = facts.muted_until, facts.words
    if muted_until is not None:
        local = muted_until.astimezone(_zone["tz"]).strftime("%d.%m.%Y %H:%M")
        return Screening("refuse", None, text, title,
                         f"Вы не можете писать до {local}.", muted_until)
    detector = await detector_for(session, school_id, stamp=words or "")
    verdict = detector.check(text, title=title)
    masked_text, masked_title = detector.mask(text), detector.mask(title) if title else title
    if verdict.action is Action.REFUSE:
        return Screening("refuse", verdict, text, title, refusal_message(verdict), None)
    action: Literal["allow", "hold"] = "hold" if verdict.action is Action.HOLD else "allow"
    message = "" if action == "allow" else (
        "Сообщение отправлено модератору и появится после проверки."
    )
    return Screening(action, verdict, masked_text, masked_title, message, None)


def refusal_message(verdict: Verdict) -> str:
    words = []
    for reason in verdict.reasons:
        if reason.rule != "model" and reason.matched and reason.matched not in words:
            words.append(reason.matched)
    what = "нецензурные выражения" if Category.OBSCENE in verdict.categories else (
        "недопустимые по правилам школы слова"
    )
    shown = ", ".join(f"«{w}»" for w in words[:5])
    return (f"Сообщение не опубликовано: в нём {what}"
            + (f" ({shown})" if shown else "")
            + ". Исправьте текст и отправьте снова.")
