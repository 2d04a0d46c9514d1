"""The SMTP channel against a real SMTP server on loopback (aiosmtpd): what arrives, over
how many connections, and how each kind of server trouble is reported to the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from hub.config import Settings
from hub.notify.channel import PermanentFailure, TemporaryFailure
from mail.channel import SmtpChannel
from tests.mail.conftest import envelope, grade_item
from tests.support.smtp import SmtpSink, tls_contexts


def settings_for(sink: SmtpSink, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    **(sink.settings() | extra))


@pytest.fixture
async def channel(smtp_sink: SmtpSink, tmp_path: Path) -> AsyncIterator[SmtpChannel]:
    smtp = SmtpChannel(settings_for(smtp_sink, tmp_path, smtp_timeout=2.0))
    yield smtp
    await smtp.aclose()


async def test_many_messages_over_one_connection(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    ids = [await channel.send(envelope(address=f"parent{i}@example.test")) for i in range(25)]
    received = await smtp_sink.wait_for(25)
    assert smtp_sink.connections == 1
    assert [m.to for m in received] == [[f"parent{i}@example.test"] for i in range(25)]
    assert [m.message_id for m in received] == ids
    assert len(set(ids)) == 25
    assert received[0].mail_from == "noreply@school.local"
    assert "Оценка 5 по математике" in received[0].text


async def test_temporary_refusal_is_a_temporary_failure(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    smtp_sink.fail_next(1, 451)
    with pytest.raises(TemporaryFailure):
        await channel.send(envelope())
    assert smtp_sink.messages == []
    await channel.send(envelope())  # the connection is still good
    assert len(await smtp_sink.wait_for(1)) == 1
    assert smtp_sink.connections == 1


@pytest.mark.parametrize("code", [550, 553])
async def test_unknown_recipient_is_a_permanent_failure(
    channel: SmtpChannel, smtp_sink: SmtpSink, code: int
) -> None:
    smtp_sink.reject_recipient("gone@example.test", code, "5.1.1 <gone@example.test>: unknown")
    with pytest.raises(PermanentFailure) as failure:
        await channel.send(envelope(address="gone@example.test"))
    assert str(code) in failure.value.reason
    assert "gone@example.test" not in failure.value.reason  # reasons reach the logs
    assert not failure.value.fallback_to_email
    await channel.send(envelope(address="anna@example.test"))
    [message] = await smtp_sink.wait_for(1)
    assert message.to == ["anna@example.test"]


async def test_invalid_address_fails_for_good_without_asking_the_server(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    with pytest.raises(PermanentFailure):
        await channel.send(envelope(address="not an address"))
    assert smtp_sink.connections == 0


async def test_rejected_message_body_is_temporary(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    smtp_sink.fail(554, stage="data", times=1)
    with pytest.raises(TemporaryFailure):
        await channel.send(envelope())
    await channel.send(envelope())
    assert len(await smtp_sink.wait_for(1)) == 1


async def test_lines_starting_with_a_dot_arrive_whole(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    message = EmailMessage()
    message["From"] = "noreply@school.local"
    message["To"] = "anna@example.test"
    message["Subject"] = "Dots"
    message.set_content("first\n.\n..two\n.last", cte="7bit")
    await channel.send_message(message)
    [received] = await smtp_sink.wait_for(1)
    assert received.text.replace("\r\n", "\n") == "first\n.\n..two\n.last\n"
    await channel.send(envelope())  # the lone dot in the body did not end DATA early
    assert len(await smtp_sink.wait_for(2)) == 2


async def test_421_closes_and_the_next_send_reconnects(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    await channel.send(envelope())
    smtp_sink.fail(421, stage="mail", times=1)
    with pytest.raises(TemporaryFailure):
        await channel.send(envelope())
    await channel.send(envelope())
    assert len(await smtp_sink.wait_for(2)) == 2
    assert smtp_sink.connections == 2


async def test_server_down_is_temporary_and_sending_resumes_after_restart(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    await smtp_sink.stop()
    with pytest.raises(TemporaryFailure):
        await channel.send(envelope())
    await smtp_sink.start()
    await channel.send(envelope(address="after@example.test"))
    [message] = await smtp_sink.wait_for(1)
    assert message.to == ["after@example.test"]


async def test_connection_cut_while_idle_is_reopened_and_sent_once(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    await channel.send(envelope(delivery_id=1))
    await smtp_sink.restart()  # the reused connection is dead, the channel cannot know
    await channel.send(envelope(delivery_id=2))
    received = await smtp_sink.wait_for(2)
    assert len(received) == 2
    assert smtp_sink.duplicates() == {}
    assert received[1].connection == 2


async def test_dead_connection_found_by_noop_after_idle(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    channel = SmtpChannel(settings_for(smtp_sink, tmp_path), idle_check=0.0)
    try:
        await channel.send(envelope())
        await smtp_sink.drop_connections()
        await channel.send(envelope())
        assert len(await smtp_sink.wait_for(2)) == 2
        assert smtp_sink.connections == 2
    finally:
        await channel.aclose()


async def test_slow_server_times_out_as_temporary_and_keeps_nothing(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    channel = SmtpChannel(settings_for(smtp_sink, tmp_path, smtp_timeout=0.3))
    try:
        smtp_sink.slow(1.0, stage="data")
        with pytest.raises(TemporaryFailure):
            await channel.send(envelope())
        await asyncio.sleep(1.0)
        assert smtp_sink.messages == []
        smtp_sink.clear_faults()
        await channel.send(envelope())
        assert len(await smtp_sink.wait_for(1)) == 1
    finally:
        await channel.aclose()


async def test_concurrent_sends_share_the_connection(
    channel: SmtpChannel, smtp_sink: SmtpSink
) -> None:
    envelopes = [envelope(address=f"p{i}@example.test") for i in range(30)]
    await asyncio.gather(*(channel.send(e) for e in envelopes))
    received = await smtp_sink.wait_for(30)
    assert sorted(m.to[0] for m in received) == sorted(e.address for e in envelopes)
    assert smtp_sink.connections == 1


async def test_starttls_with_login(tmp_path: Path) -> None:
    server_tls, client_tls = tls_contexts()
    async with SmtpSink(starttls=server_tls, login=("hub", "s3cret")) as sink:
        channel = SmtpChannel(settings_for(sink, tmp_path), tls_context=client_tls)
        try:
            await channel.send(envelope(grade_item(title="Оценка 4 по химии")))
            [message] = await sink.wait_for(1)
        finally:
            await channel.aclose()
    assert "Оценка 4 по химии" in message.subject


async def test_wrong_password_is_temporary(tmp_path: Path) -> None:
    server_tls, client_tls = tls_contexts()
    async with SmtpSink(starttls=server_tls, login=("hub", "s3cret")) as sink:
        settings = settings_for(sink, tmp_path, smtp_password="wrong")
        channel = SmtpChannel(settings, tls_context=client_tls)
        with pytest.raises(TemporaryFailure):
            await channel.send(envelope())
        assert sink.messages == []


async def test_implicit_tls(tmp_path: Path) -> None:
    server_tls, client_tls = tls_contexts()
    async with SmtpSink(tls=server_tls) as sink:
        channel = SmtpChannel(settings_for(sink, tmp_path), tls_context=client_tls)
        try:
            await channel.send(envelope())
            await channel.send(envelope())
            assert len(await sink.wait_for(2)) == 2
            assert sink.connections == 1
        finally:
            await channel.aclose()


async def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    server_tls, _ = tls_contexts()
    async with SmtpSink(starttls=server_tls) as sink:
        channel = SmtpChannel(settings_for(sink, tmp_path))  # the system's trust store
        with pytest.raises(TemporaryFailure):
            await channel.send(envelope())
        assert sink.messages == []


async def test_a_data_without_an_answer_is_uncertain_and_a_refused_recipient_is_not(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    channel = SmtpChannel(settings_for(smtp_sink, tmp_path, smtp_timeout=0.3), pool_size=2)
    try:
        smtp_sink.slow(1.0, stage="data")
        with pytest.raises(TemporaryFailure) as stalled:
            await channel.send(envelope())
        assert stalled.value.uncertain  # the server may have kept it
        smtp_sink.clear_faults()
        smtp_sink.fail_next(1, 451, stage="rcpt")
        with pytest.raises(TemporaryFailure) as deferred:
            await channel.send(envelope())
        assert not deferred.value.uncertain  # refused before DATA: nothing was kept
    finally:
        await channel.aclose()
