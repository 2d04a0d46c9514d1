"""The e-mail Channel: renders an Envelope and sends it with aiosmtplib over a reused
connection (STARTTLS, TLS or plain, and login, as configured).

Errors map onto the pipeline's two answers:
- TemporaryFailure: the server is down, slow, disconnected, or answered 4xx anywhere, or 5xx
  to anything but the recipient (a problem of ours or of the relay, not of the address:
  after its tries the delivery is dead and an administrator can retry it);
- PermanentFailure: the address cannot be an e-mail address, or the server refused the
  recipient with 5xx (550 no such user, 553 bad address).

A transaction is (MAIL, RCPT, DATA). If a reused connection turns out to be dead before the
server has seen the message (MAIL or RCPT), the message goes again at once on a fresh
connection; once DATA has started, a failure is reported and never repeated here. Once the
final dot is out the server may have kept the message: a failure then is reported as
uncertain, so the pipeline counts its next attempt (with the same Message-ID, mail.render)
as a possible duplicate.

Each transaction has its own time limit (`smtp_timeout`), and a worker holds as many
connections as it has sends in flight (`pool_size`): a stalled DATA is cut by its own limit
and holds up only its own connection. MAIL, RCPT and the message's content run side by side
on the pool; the final dot of DATA, after which the server may keep the message, waits for
the send's turn (hub.notify.acceptance, mail.smtpdata), so that at most one message of a
worker is accepted and not yet recorded.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

from aiosmtplib import (
    SMTP,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from hub.config import Settings
from hub.notify.acceptance import Turn
from hub.notify.channel import ChannelName, Envelope, PermanentFailure, TemporaryFailure
from mail.render import message_id_of, recipient_of, render_message, sender_address, wire_bytes
from mail.smtpdata import end_data, send_content

log = logging.getLogger(__name__)

# Before reusing a connection idle for longer than this, check it with NOOP.
IDLE_CHECK_SECONDS = 10.0


# Servers often repeat the address in their answer; reasons end up in logs.
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


def _without_addresses(text: str) -> str:
    return _ADDRESS.sub("<address>", text)[:200]


class _StaleConnection(Exception):
    """A reused connection was found dead before the server saw the message."""


@dataclass(eq=False)
class _Connection:
    smtp: SMTP
    last_used: float
    reused: bool = False


class SmtpChannel:
    name = ChannelName.EMAIL

    def __init__(
        self,
        settings: Settings,
        *,
        tls_context: ssl.SSLContext | None = None,
        pool_size: int = 1,
        idle_check: float = IDLE_CHECK_SECONDS,
    ) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpChannel needs smtp_host")
        self.settings = settings
        self.tls_context = tls_context
        self.idle_check = idle_check
        self.sender = sender_address(settings)
        self.transaction_timeout = settings.smtp_timeout
        self._idle: asyncio.LifoQueue[_Connection | None] = asyncio.LifoQueue()
        for _ in range(max(1, pool_size)):
            self._idle.put_nowait(None)  # a slot; connected on first use
        self._all: set[_Connection] = set()

    async def send(self, envelope: Envelope, turn: Turn | None = None) -> str:
        message = render_message(envelope, self.settings)
        try:
            return await self.send_message(message, turn)
        except (TemporaryFailure, PermanentFailure) as exc:
            log.info("delivery %s: e-mail not sent: %s", envelope.delivery_id, exc)
            raise

    async def send_message(self, message: EmailMessage, turn: Turn | None = None) -> str:
        """Send a rendered message to its To: address; the Message-ID when accepted. With a
        `turn`, DATA waits for it after RCPT (hub.notify.acceptance)."""
        recipient = recipient_of(message)
        data = wire_bytes(message)
        slot = await self._idle.get()
        try:
            for attempt in range(2):
                slot = await self._ready(slot)
                try:
                    async with asyncio.timeout(self.transaction_timeout):
                        await self._transaction(slot.smtp, recipient, data, turn)
                except TimeoutError:
                    self._discard(slot)
                    slot = None
                    raise TemporaryFailure("SMTP transaction timed out",
                                           uncertain=True) from None
                except _StaleConnection:
                    was_reused = slot.reused
                    self._discard(slot)
                    slot = None
                    if was_reused and attempt == 0:
                        continue  # the server had closed an idle connection: once more
                    raise TemporaryFailure("SMTP server closed the connection") from None
                slot.last_used, slot.reused = time.monotonic(), True
                return message_id_of(message)
            raise AssertionError("unreachable")
        finally:
            self._idle.put_nowait(slot)

    async def _ready(self, connection: _Connection | None) -> _Connection:
        if connection is not None and connection.smtp.is_connected:
            if time.monotonic() - connection.last_used <= self.idle_check:
                return connection
            try:
                await connection.smtp.noop()
                return connection
            except (SMTPException, OSError):
                pass
        if connection is not None:
            self._discard(connection)
        return await self._connect()

    async def _connect(self) -> _Connection:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password,
            timeout=settings.smtp_timeout,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            tls_context=self.tls_context,
            local_hostname=urlsplit(settings.public_url).hostname or "localhost",
        )
        try:
            await smtp.connect()
        except SMTPResponseException as exc:  # a refused greeting, STARTTLS or login
            smtp.close()
            raise TemporaryFailure(f"SMTP server refused the session: {exc.code}") from None
        except (SMTPException, OSError, ssl.SSLError) as exc:
            smtp.close()
            raise TemporaryFailure(f"SMTP server unreachable: {type(exc).__name__}") from None
        connection = _Connection(smtp, time.monotonic())
        self._all.add(connection)
        return connection

    def _discard(self, connection: _Connection) -> None:
        connection.smtp.close()
        self._all.discard(connection)

    async def _transaction(self, smtp: SMTP, recipient: str, data: bytes,
                           turn: Turn | None) -> None:
        try:
            await smtp.mail(self.sender)
        except SMTPServerDisconnected:
            raise _StaleConnection from None
        except SMTPResponseException as exc:
            await self._after_refusal(smtp, exc.code)
            raise TemporaryFailure(f"SMTP server refused the sender: {exc.code}") from None
        except (SMTPException, OSError, ValueError) as exc:
            smtp.close()
            raise TemporaryFailure(f"SMTP error: {type(exc).__name__}") from None
        try:
            await smtp.rcpt(recipient)
        except SMTPServerDisconnected:
            raise _StaleConnection from None
        except SMTPRecipientRefused as exc:
            await self._after_refusal(smtp, exc.code)
            if 500 <= exc.code < 600:
                raise PermanentFailure(
                    f"recipient refused: {exc.code} {_without_addresses(exc.message)}"
                ) from None
            raise TemporaryFailure(f"recipient deferred: {exc.code}") from None
        except (SMTPException, OSError) as exc:
            smtp.close()
            raise TemporaryFailure(f"SMTP error: {type(exc).__name__}") from None
        try:
            await send_content(smtp, data)
        except SMTPResponseException as exc:
            await self._after_refusal(smtp, exc.code)
            raise TemporaryFailure(f"SMTP server refused the message: {exc.code}") from None
        except (SMTPException, OSError) as exc:  # no final dot yet: nothing was kept
            smtp.close()
            raise TemporaryFailure(f"SMTP error during DATA: {type(exc).__name__}") from None
        if turn is not None:
            await turn.begin()
        try:
            await end_data(smtp)
        except SMTPResponseException as exc:
            await self._after_refusal(smtp, exc.code)
            raise TemporaryFailure(f"SMTP server refused the message: {exc.code}") from None
        except (SMTPException, OSError) as exc:  # the server may or may not have kept it
            smtp.close()
            raise TemporaryFailure(f"SMTP error during DATA: {type(exc).__name__}",
                                   uncertain=True) from None

    @staticmethod
    async def _after_refusal(smtp: SMTP, code: int) -> None:
        """Leave the connection usable for the next message (or closed after a 421)."""
        if code == 421:
            smtp.close()
            return
        try:
            await smtp.rset()
        except (SMTPException, OSError):
            smtp.close()

    async def aclose(self) -> None:
        for connection in list(self._all):
            try:
                await connection.smtp.quit(timeout=2)
            except (SMTPException, OSError):
                connection.smtp.close()
        self._all.clear()
