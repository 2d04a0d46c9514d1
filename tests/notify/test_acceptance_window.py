"""The acceptance window with the real e-mail channel and a real SMTP server on loopback: a
worker with four sends in flight ends one DATA at a time, each only after the previous
accepted message is recorded "sent", so a worker killed after a 250 leaves at most one
message unrecorded; a DATA that stalls holds the others up for the window's bound only."""

from __future__ import annotations

import asyncio
import email
import time
from email import policy
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hub.config import Settings
from hub.db import Database
from hub.notify.channel import ChannelName
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.worker import Worker, WorkerConfig
from mail.channel import SmtpChannel
from tests.notify.conftest import Family, post_grade
from tests.support.school import SchoolBuilder
from tests.support.smtp import SmtpSink


def smtp_settings(tmp_path: Path, sink: SmtpSink, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    **sink.settings(), **extra)


def message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"])


async def recorded_sent(db: Database, message_ids: list[str]) -> int:
    async with db.session() as session:
        return int(await session.scalar(
            select(func.count()).select_from(Delivery).where(
                Delivery.provider_id.in_(message_ids),
                Delivery.status == DeliveryStatus.SENT)) or 0)


async def test_no_data_ends_while_an_accepted_message_is_unrecorded(
    db: Database, tmp_path: Path, school: SchoolBuilder, family: Family, smtp_sink: SmtpSink,
) -> None:
    for n in range(12):
        await post_grade(db, school.school_id, family.alice, 2 + n % 4, f"j-{n}")
    # Each 250 comes late, so that four connections in flight would all reach the end of
    # DATA while the first is still waiting for it (or for its record).
    smtp_sink.slow(0.1, stage="data")
    ended: list[str] = []  # the Message-IDs whose DATA has ended, in order
    unrecorded_at_data_end: list[int] = []
    handle_data = smtp_sink._handler.handle_DATA

    async def checking_data(server: Any, session: Any, envelope: Any) -> str:
        unrecorded_at_data_end.append(len(ended) - await recorded_sent(db, ended))
        ended.append(message_id(envelope.original_content or envelope.content))
        return await handle_data(server, session, envelope)

    smtp_sink._handler.handle_DATA = checking_data  # type: ignore[method-assign]
    settings = smtp_settings(tmp_path, smtp_sink)
    channel = SmtpChannel(settings, pool_size=4)
    worker = Worker(settings, db, {ChannelName.EMAIL: channel},
                    config=WorkerConfig(concurrency=4))
    try:
        assert await worker.run_once() == 12
    finally:
        await worker.aclose()

    assert smtp_sink.connections == 4  # the sends were in flight side by side
    assert len(smtp_sink.messages) == 12 and smtp_sink.duplicates() == {}
    assert unrecorded_at_data_end == [0] * 12
    assert await recorded_sent(db, [m.message_id for m in smtp_sink.messages]) == 12


async def test_a_stalled_data_holds_the_others_up_for_the_bound_only(
    db: Database, tmp_path: Path, school: SchoolBuilder, family: Family, smtp_sink: SmtpSink,
) -> None:
    for n in range(7):
        await post_grade(db, school.school_id, family.alice, 2 + n % 4, f"j-{n}")
    stalled: list[float] = []
    handle_data = smtp_sink._handler.handle_DATA

    async def first_stalls(server: Any, session: Any, envelope: Any) -> str:
        if not stalled:
            stalled.append(time.monotonic())
            await asyncio.sleep(6.0)  # longer than the SMTP timeout: the sender gives up
        return await handle_data(server, session, envelope)

    smtp_sink._handler.handle_DATA = first_stalls  # type: ignore[method-assign]
    settings = smtp_settings(tmp_path, smtp_sink, smtp_timeout=4.0)
    channel = SmtpChannel(settings, pool_size=4)
    worker = Worker(settings, db, {ChannelName.EMAIL: channel},
                    config=WorkerConfig(concurrency=4, acceptance_wait=0.5))
    run = asyncio.create_task(worker.run_once())
    try:
        await smtp_sink.wait_for(6, within=10)
        others_done = time.monotonic() - stalled[0]
        assert await run == 7
    finally:
        await worker.aclose()

    # The six others went out well before the stalled one was cut (4 s), each having waited
    # for its turn at most the bound.
    assert others_done < 3.0
    async with db.session() as session:
        statuses = sorted(d.status.value for d in await session.scalars(select(Delivery)))
    assert statuses == ["retry"] + ["sent"] * 6
