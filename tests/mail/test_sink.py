"""The SMTP sink other packages' tests rely on does what its docstring promises."""

from __future__ import annotations

import aiosmtplib
import pytest

from tests.support.smtp import SmtpSink

MESSAGE = b"From: a@example.test\r\nSubject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\n" \
          b"Message-ID: <m1@example.test>\r\n\r\nbody\r\n"


async def send(sink: SmtpSink, to: str = "x@example.test", wait: float = 5) -> None:
    await aiosmtplib.send(MESSAGE, sender="a@example.test", recipients=[to],
                          hostname=sink.host, port=sink.port, timeout=wait)


async def test_records_and_parses_accepted_messages(smtp_sink: SmtpSink) -> None:
    await send(smtp_sink, "x@example.test")
    [message] = await smtp_sink.wait_for(1)
    assert message.to == ["x@example.test"] and message.mail_from == "a@example.test"
    assert message.subject == "Привет" and message.message_id == "<m1@example.test>"
    assert message.queue_id and message.connection == 1
    assert smtp_sink.for_recipient("X@example.test") == [message]


async def test_faults_count_down_and_match_recipients(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(2, 451)
    smtp_sink.reject_recipient("gone@example.test")
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await send(smtp_sink)
    await send(smtp_sink)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await send(smtp_sink, "gone@example.test")
    assert refused.value.recipients[0].code == 550
    smtp_sink.fail(554, stage="data", times=1)
    with pytest.raises(aiosmtplib.SMTPDataError):
        await send(smtp_sink)
    assert len(smtp_sink.messages) == 1 and smtp_sink.data_commands == 2


async def test_stop_refuses_connections_and_restart_keeps_the_port(smtp_sink: SmtpSink) -> None:
    port = smtp_sink.port
    await smtp_sink.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await send(smtp_sink)
    await smtp_sink.start()
    assert smtp_sink.port == port
    await send(smtp_sink)
    assert len(await smtp_sink.wait_for(1)) == 1


async def test_duplicates_and_abandoned_messages(smtp_sink: SmtpSink) -> None:
    await send(smtp_sink)
    smtp_sink.slow(0.5, stage="data", keep_abandoned=True)
    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        await send(smtp_sink, wait=0.1)
    await smtp_sink.wait_for(2)  # the server kept what the client gave up on
    assert smtp_sink.duplicates() == {"<m1@example.test>": 2}
    with pytest.raises(AssertionError, match="expected 3 messages"):
        await smtp_sink.wait_for(3, within=0.2)
