"""The bytes of a rendered e-mail, written out directly.

Assembling a message with the standard `email` package (parsing every header into an
object, then folding and encoding it all again in the generator) cost ten times more than
rendering its templates. Every message the hub sends has the same shape, so its wire form
is written here: the headers encoded as the generator would (RFC 2047 encoded words for
non-ASCII text, the display names of addresses only), `MIME-Version: 1.0`, a
multipart/alternative of a text/plain and a text/html part, each UTF-8 in base64, CRLF line
ends, 7-bit throughout.

`OutgoingMessage` is an EmailMessage whose headers are stored raw and parsed only when
someone reads one (`message["To"]`), carrying the wire bytes, the two bodies, the
recipient's address and the Message-ID with it: sending needs no header parsed.
"""

from __future__ import annotations

import base64
import functools
import secrets
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

CRLF = "\r\n"
MAX_LINE = 76
HEADER_POLICY = policy.default.clone(refold_source="none")


class OutgoingMessage(EmailMessage):
    """A message as rendered for sending: raw headers, wire bytes and both bodies, and
    the envelope recipient and Message-ID as plain strings."""

    def __init__(self, headers: list[tuple[str, str]], text: str, html: str, *,
                 recipient: str, message_id: str) -> None:
        super().__init__(policy=HEADER_POLICY)
        self._headers = list(headers)  # parsed lazily by the policy on access
        self.text = text
        self.html = html
        self.recipient = recipient  # the To: address's addr-spec
        self.message_id = message_id
        self.wire = _wire(headers, text, html)


def address_header(address: Address) -> str:
    """An address header's value: the display name encoded when it is not ASCII."""
    return formataddr((address.display_name, address.addr_spec), charset="utf-8")


@functools.lru_cache(maxsize=16)  # one sender per deployment
def sender_header(mail_from: str) -> str:
    name, addr = parseaddr(mail_from)
    if not name:
        return addr or mail_from
    return formataddr((name, addr), charset="utf-8")


def text_header(name: str, value: str) -> str:
    """An unstructured header's value (Subject): as it is when ASCII and short, else
    RFC 2047 encoded words (UTF-8, base64), one per line of at most MAX_LINE characters.
    (The email package's Header does the same at ten times the cost.)"""
    if value.isascii() and len(name) + 2 + len(value) <= 78:
        return value
    first_line = MAX_LINE - len(name) - len(": ")
    return (CRLF + " ").join(_encoded_words(value, first_line))


_WORD_FRAME = len("=?utf-8?b??=")
_MAX_WORD = MAX_LINE - 1  # a folded line starts with a space


def _encoded_words(value: str, first: int) -> list[str]:
    """`value` cut between characters into encoded words, the first at most `first`
    characters long, the others at most _MAX_WORD."""
    chunks: list[bytes] = []
    chunk = b""
    room = _bytes_in_word(first)
    for char in value:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > room:
            chunks.append(chunk)
            chunk, room = b"", _bytes_in_word(_MAX_WORD)
        chunk += encoded
    chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks]


def _bytes_in_word(length: int) -> int:
    """The most bytes whose base64 fits an encoded word of `length` characters."""
    return max(4, (length - _WORD_FRAME) // 4 * 3)


def _base64(text: str) -> str:
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return CRLF.join(encoded[i:i + MAX_LINE] for i in range(0, len(encoded), MAX_LINE))


def _part(subtype: str, body: str) -> str:
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: base64{CRLF}{CRLF}{_base64(body)}{CRLF}")


def _wire(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    boundary = f"==============={secrets.token_hex(10)}=="
    lines = [f"{name}: {value}" for name, value in headers]
    lines += ["MIME-Version: 1.0",
              f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    return (
        CRLF.join(lines) + CRLF
        + f"--{boundary}{CRLF}" + _part("plain", text)
        + f"--{boundary}{CRLF}" + _part("html", html)
        + f"--{boundary}--{CRLF}"
    ).encode("ascii")
