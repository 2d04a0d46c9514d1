"""SMTP DATA in two steps: the content goes first, the final dot only when the sender says.

A server may keep a message once it has read the line with the lone dot that ends DATA,
not before (RFC 5321 4.1.1.4). So a sender that must not have two messages accepted and
unrecorded at once (hub.notify.acceptance) need hold back only that last line: the DATA
command, its 354 and the message's lines go out while the previous message is still being
recorded, and what waits for the turn is one short write and the server's answer.

aiosmtplib sends DATA and the content in one call; these two use its connection's
`execute_command`, `protocol.write` and `protocol.read_response` instead.
"""

from __future__ import annotations

import re

from aiosmtplib import SMTP, SMTPDataError, SMTPResponse, SMTPServerDisconnected
from aiosmtplib.protocol import SMTPProtocol

_LINE_STARTING_WITH_DOT = re.compile(rb"^\.", re.MULTILINE)
START_INPUT = 354
COMPLETED = 250


async def send_content(smtp: SMTP, data: bytes) -> None:
    """DATA, and the message's lines (`data`, CRLF line ends) without the final dot.
    SMTPDataError when the server will not take the content."""
    response = await smtp.execute_command(b"DATA")
    if response.code != START_INPUT:
        raise SMTPDataError(response.code, response.message)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    # A line starting with a dot gets another one, so that none reads as the end.
    _protocol(smtp).write(_LINE_STARTING_WITH_DOT.sub(b"..", data))


async def end_data(smtp: SMTP) -> SMTPResponse:
    """The final dot, and the server's answer: SMTPDataError unless it took the message."""
    protocol = _protocol(smtp)
    protocol.write(b".\r\n")
    response = await protocol.read_response(timeout=None)  # the transaction has its limit
    if response.code != COMPLETED:
        raise SMTPDataError(response.code, response.message)
    return response


def _protocol(smtp: SMTP) -> SMTPProtocol:
    if smtp.protocol is None:
        raise SMTPServerDisconnected("Connection lost")
    return smtp.protocol
