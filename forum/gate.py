"""The publishing pipeline's first half, shared by announcements, topics and posts:
check the form, screen the text (moderation), sanitize what is kept.

sanitize -> moderation.screening.screen -> published / held / refused. A refusal raises
`hub.errors.Invalid` with the message for the author, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from forum import sanitize
from forum.models import Status
from hub.errors import Invalid
from moderation import Verdict
from moderation.screening import Facts, screen

MAX_TITLE = 200
MAX_BODY = 20_000


@dataclass(frozen=True)
class Passed:
    status: Status  # PUBLISHED or HELD
    title: str
    source: str  # the author's text (with watched words masked)
    html: str  # the sanitized HTML of `source`
    verdict: Verdict | None  # for the queue


def check_title(title: str) -> str:
    title = sanitize.escape_title(title)
    if not title:
        raise Invalid("Укажите заголовок.")
    if len(title) > MAX_TITLE:
        raise Invalid(f"Заголовок длиннее {MAX_TITLE} символов.")
    return title


def check_body(source: str) -> str:
    source = source.replace("\r\n", "\n").strip()
    if not source:
        raise Invalid("Текст сообщения пуст.")
    if len(source) > MAX_BODY:
        raise Invalid(f"Текст длиннее {MAX_BODY} символов ({len(source)}). Сократите его.")
    return source


async def pass_gate(
    session: AsyncSession, *, school_id: int, author_id: int, title: str, source: str,
    facts: Facts | None = None,
) -> Passed:
    """Screen a checked title and body; raise Invalid, or say how to store them. `facts`:
    the screening's facts if the caller read them (moderation.screening.facts_columns)."""
    # The detector reads the author's words as typed; markup is part of what they wrote.
    screening = await screen(
        session, school_id=school_id, author_id=author_id, title=title, text=source,
        facts=facts,
    )
    if screening.action == "refuse":
        raise Invalid(screening.message)
    status = Status.HELD if screening.action == "hold" else Status.PUBLISHED
    return Passed(
        status=status,
        title=screening.title,
        source=screening.text,
        html=sanitize.render(screening.text),
        verdict=screening.verdict,
    )


async def send_to_queue(
    session: AsyncSession, *, school_id: int, kind: str, target_id: int, author_id: int,
    verdict: Verdict | None,
) -> None:
    from moderation.queue import hold

    await hold(
        session, school_id=school_id, kind=kind, target_id=target_id, author_id=author_id,
        verdict=verdict,
    )


async def report_to_queue(
    session: AsyncSession, *, school_id: int, kind: str, target_id: int, reporter_id: int,
    reason: str,
) -> None:
    from moderation.queue import report

    await report(
        session, school_id=school_id, kind=kind, target_id=target_id,
        reporter_id=reporter_id, reason=reason,
    )
