"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests and benchmarks: it records what it
accepts and can be told to misbehave.

Use the fixture (import it into your package's conftest.py:
``from tests.support.smtp import smtp_sink  # noqa: F401``) or the class directly::

    async with SmtpSink() as sink:
        settings = Settings(..., **sink.settings())  # smtp_host / smtp_port of the sink
        ...                                          # send mail
        [message] = await sink.wait_for(1)           # until 1 has arrived (within=10 s)
        assert message.to == ["anna@example.test"]
        assert "Оценка 5" in message.subject and "Оценка 5" in message.text

The server runs on the running event loop (start it from an async test or fixture); a
worker in another process reaches it for as long as the test awaits something.

What it records
    ``messages``: a ``ReceivedMessage`` per accepted message, in arrival order: ``mail_from``,
    ``rcpt_tos`` (accepted recipients), ``raw`` bytes, ``message`` (an EmailMessage parsed
    with ``email.policy.default``), ``connection`` (1-based number of the connection it came
    on), ``queue_id`` (the id in the server's final reply), and the shortcuts ``to``,
    ``subject``, ``message_id``, ``text`` and ``html`` (decoded parts) and ``header(name)``.
    ``connections``: how many connections were opened; ``data_commands``: DATA attempts
    (accepted or not). ``for_recipient(address)``, ``duplicates()`` (Message-IDs accepted
    more than once), ``clear()``.

Faults (each returns the rule; ``clear_faults()`` drops them all)
    ``fail(code, text=None, *, stage="rcpt", times=None, recipient=None)``: answer ``code``
    at ``stage`` (``"mail"``, ``"rcpt"`` or ``"data"``) for ``recipient`` (or everyone), the
    next ``times`` matching commands (or until cleared). A 421 answer closes the connection,
    as real servers do. Shortcuts: ``reject_recipient(address)`` (550 5.1.1, forever),
    ``fail_next(n, code=451)`` (the next n messages at RCPT).
    ``slow(seconds, *, stage="data")``: wait before answering at that stage. A message whose
    sender gave up (closed the connection) during the wait is not kept, unless
    ``keep_abandoned=True`` (a server that queued it before answering: the classic source
    of duplicates).
    ``await stop()``: close the listener and cut every open connection (the server is down:
    connecting is refused). ``await start()`` again listens on the same port;
    ``await restart()`` does both. ``await drop_connections()`` cuts open connections only.

TLS and login
    ``SmtpSink(starttls=server_context)`` offers STARTTLS; ``SmtpSink(tls=server_context)``
    speaks TLS from the first byte. ``SmtpSink(login=("user", "password"))`` requires
    AUTH (PLAIN/LOGIN) before MAIL; over plain connections too, for tests.
    ``tls_contexts()`` makes a (server, client) SSLContext pair for 127.0.0.1 with a fresh
    self-signed CA (trustme); it skips the test when trustme is not installed.
"""

from __future__ import annotations

import asyncio
import email
import itertools
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any, Literal, Self

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["mail", "rcpt", "data"]


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    connection: int
    queue_id: str
    received_at: float

    @property
    def to(self) -> list[str]:
        return self.rcpt_tos

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))

    def header(self, name: str) -> str | None:
        value = self.message.get(name)
        return None if value is None else str(value)

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""  # type: ignore[attr-defined]


@dataclass
class FaultRule:
    code: int
    text: str
    stage: Stage
    times: int | None  # None: until cleared
    recipient: str | None

    def matches(self, stage: Stage, recipients: list[str]) -> bool:
        if self.stage != stage or self.times == 0:
            return False
        return self.recipient is None or self.recipient.lower() in (
            r.lower() for r in recipients
        )


@dataclass
class Slowness:
    seconds: float
    stage: Stage
    keep_abandoned: bool


_DEFAULT_TEXT = {
    421: "4.3.2 Service not available, closing transmission channel",
    450: "4.2.1 Mailbox temporarily unavailable",
    451: "4.3.0 Local error in processing, try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 No such user here",
    552: "5.3.4 Message too big",
    553: "5.1.3 Mailbox name not allowed",
    554: "5.7.1 Transaction failed",
}


class _Protocol(SMTP):
    """aiosmtpd's SMTP that closes the connection after a 421 and tells the sink it
    exists (so stop() can cut it)."""

    def __init__(self, sink: SmtpSink, **kwargs: Any) -> None:
        super().__init__(sink._handler, **kwargs)
        self._sink = sink
        self.number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self.number = self._sink._connection_opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._sink._open.discard(self)
        super().connection_lost(error)

    async def push(self, status: Any) -> None:
        await super().push(status)
        text = status.decode() if isinstance(status, bytes) else str(status)
        if text.startswith("421") and self.transport is not None:
            self.transport.close()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: _Protocol, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:
        if self.sink.login is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        fault = await self.sink._fault("mail", [], server)
        if fault:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: _Protocol, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        fault = await self.sink._fault("rcpt", [address], server)
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: _Protocol, session: Session, envelope: Envelope) -> str:
        self.sink.data_commands += 1
        # A server that queues before answering keeps the message even if the sender
        # gives up waiting for the answer.
        kept_first = any(s.keep_abandoned and s.stage == "data" for s in self.sink.slowness)
        reply = self.sink._accept(server, envelope) if kept_first else None
        fault = await self.sink._fault("data", list(envelope.rcpt_tos), server)
        if fault:
            return fault
        return reply or self.sink._accept(server, envelope)


class SmtpSink:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        starttls: ssl.SSLContext | None = None,
        tls: ssl.SSLContext | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        if host != "127.0.0.1":
            raise ValueError("tests only use loopback")
        self.host = host
        self.port = port
        self.starttls_context = starttls
        self.tls_context = tls
        self.login = login
        self.messages: list[ReceivedMessage] = []
        self.connections = 0
        self.data_commands = 0
        self.faults: list[FaultRule] = []
        self.slowness: list[Slowness] = []
        self._handler = _Handler(self)
        self._server: asyncio.Server | None = None
        self._open: set[_Protocol] = set()
        self._arrived = asyncio.Condition()
        self._queue_ids = itertools.count(1)

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        return self._server is not None

    def settings(self) -> dict[str, Any]:
        """Settings overrides that point the hub at this sink."""
        security = "tls" if self.tls_context else "starttls" if self.starttls_context else "none"
        values: dict[str, Any] = {
            "smtp_host": self.host, "smtp_port": self.port, "smtp_security": security,
        }
        if self.login:
            values |= {"smtp_username": self.login[0], "smtp_password": self.login[1]}
        return values

    async def start(self) -> Self:
        if self._server is not None:
            return self
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.port, ssl=self.tls_context, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _protocol(self) -> _Protocol:
        return _Protocol(
            self,
            hostname="sink.test",
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=self.starttls_context,
            authenticator=self._authenticate if self.login else None,
            auth_require_tls=False,
            loop=asyncio.get_running_loop(),
        )

    async def stop(self) -> None:
        """The server goes down: no more connections, open ones are cut."""
        if self._server is not None:
            self._server.close()
            await self.drop_connections()
            await self._server.wait_closed()
            self._server = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def drop_connections(self) -> None:
        for protocol in list(self._open):
            if protocol.transport is not None:
                protocol.transport.abort()
        self._open.clear()
        await asyncio.sleep(0)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ faults

    def fail(
        self,
        code: int,
        text: str | None = None,
        *,
        stage: Stage = "rcpt",
        times: int | None = None,
        recipient: str | None = None,
    ) -> FaultRule:
        if not 400 <= code <= 599:
            raise ValueError("a fault is a 4xx or 5xx answer")
        rule = FaultRule(code, text or _DEFAULT_TEXT.get(code, "Failed"), stage, times, recipient)
        self.faults.append(rule)
        return rule

    def reject_recipient(self, address: str, code: int = 550, text: str | None = None) -> FaultRule:
        return self.fail(code, text, stage="rcpt", recipient=address)

    def fail_next(self, count: int, code: int = 451, *, stage: Stage = "rcpt") -> FaultRule:
        return self.fail(code, stage=stage, times=count)

    def slow(self, seconds: float, *, stage: Stage = "data", keep_abandoned: bool = False) -> None:
        self.slowness.append(Slowness(seconds, stage, keep_abandoned))

    def clear_faults(self) -> None:
        self.faults.clear()
        self.slowness.clear()

    async def _fault(self, stage: Stage, recipients: list[str], server: _Protocol) -> str | None:
        for slow in self.slowness:
            if slow.stage == stage:
                await asyncio.sleep(slow.seconds)
        for rule in self.faults:
            if rule.matches(stage, recipients):
                if rule.times is not None:
                    rule.times -= 1
                return f"{rule.code} {rule.text}"
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.login is not None:
            given = (data.login.decode(), data.password.decode())
            if given == self.login:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535

    # ------------------------------------------------------------------ recording

    def _connection_opened(self, protocol: _Protocol) -> int:
        self.connections += 1
        self._open.add(protocol)
        return self.connections

    def _accept(self, server: _Protocol, envelope: Envelope) -> str:
        if server.transport is None or server.transport.is_closing():
            return "451 4.3.0 Client gone"  # it gave up before the server answered
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        queue_id = f"Q{next(self._queue_ids):06X}"
        self.messages.append(
            ReceivedMessage(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=email.message_from_bytes(raw, policy=policy.default),  # type: ignore[arg-type]
                connection=server.number,
                queue_id=queue_id,
                received_at=time.monotonic(),
            )
        )
        asyncio.get_running_loop().create_task(self._notify())
        return f"250 2.0.0 Ok: queued as {queue_id}"

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    async def wait_for(self, count: int, within: float = 10.0) -> list[ReceivedMessage]:
        """Wait until at least `count` messages have been accepted; AssertionError on
        timeout (naming how many arrived)."""
        try:
            async with asyncio.timeout(within):
                async with self._arrived:
                    await self._arrived.wait_for(lambda: len(self.messages) >= count)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} messages at the SMTP sink, got {len(self.messages)}"
            ) from None
        return list(self.messages)

    def for_recipient(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def duplicates(self) -> dict[str, int]:
        """Message-IDs accepted more than once (a message delivered twice)."""
        counts = Counter(m.message_id for m in self.messages)
        return {mid: n for mid, n in counts.items() if n > 1}

    def clear(self) -> None:
        self.messages.clear()
        self.connections = 0
        self.data_commands = 0


def tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts for 127.0.0.1 signed by a throwaway CA; skips the test
    when trustme (and cryptography) are not installed."""
    trustme = pytest.importorskip("trustme", reason="TLS tests need trustme (and cryptography)")
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    authority.configure_trust(client)
    return server, client


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    """A running SmtpSink on a free loopback port."""
    sink = SmtpSink()
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()
