"""Signed one-click unsubscribe tokens: who (a person), what (notification kinds) and when
the link was made.

A token is `payload.signature`, both urlsafe base64 without padding; the signature is
HMAC-SHA256 with the installation's secret over a purpose label and the payload, so a token
cannot be altered or reused for another purpose. Tokens do not expire by age: an
unsubscribe link in a year-old letter must still work. But a link speaks for the choice the
person had made when the letter was sent: once they change that preference (turn the kind
back on), links made before the change no longer work (see mail.unsubscribe). Tokens made
before the time was included carry none and count as made before any change.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

from hub import clock
from hub.config import Settings
from hub.notify.channel import NotificationKind

_PURPOSE = b"school-hub mail unsubscribe v1\x00"
UNSUBSCRIBE_PATH = "/mail/unsubscribe/"


class BadToken(ValueError):
    """The token was altered, forged, or is not a token at all."""


@dataclass(frozen=True)
class Unsubscribe:
    person_id: int
    kinds: tuple[NotificationKind, ...]
    # When the link was made; None for links made before tokens carried it.
    issued_at: dt.datetime | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadToken("not base64") from exc


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()


def make_token(
    secret: bytes, person_id: int, kinds: tuple[NotificationKind, ...],
    issued_at: dt.datetime | None = None,
) -> str:
    if not kinds:
        raise ValueError("an unsubscribe token needs at least one kind")
    ordered = sorted({NotificationKind(k) for k in kinds})
    issued = issued_at or clock.now()
    milliseconds = int(issued.timestamp() * 1000)
    payload = f"{person_id}:{','.join(k.value for k in ordered)}:{milliseconds}".encode("ascii")
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def read_token(secret: bytes, token: str) -> Unsubscribe:
    """The token's person, kinds and time of making, or BadToken."""
    if token.count(".") != 1 or len(token) > 300:
        raise BadToken("malformed")
    payload_part, signature_part = token.split(".")
    payload = _unb64(payload_part)
    if not hmac.compare_digest(_signature(secret, payload), _unb64(signature_part)):
        raise BadToken("bad signature")
    try:
        person_part, kinds_part, *issued_part = payload.decode("ascii").split(":")
        kinds = tuple(NotificationKind(k) for k in kinds_part.split(","))
        issued_at = (
            dt.datetime.fromtimestamp(int(issued_part[0]) / 1000, dt.UTC)
            if issued_part else None
        )
        return Unsubscribe(person_id=int(person_part), kinds=kinds, issued_at=issued_at)
    except (ValueError, IndexError, OverflowError) as exc:  # signed by us: a format change
        raise BadToken("unreadable payload") from exc


def unsubscribe_url(settings: Settings, person_id: int, kinds: tuple[NotificationKind, ...]) -> str:
    """The one-click link that switches off e-mails of `kinds` for the person."""
    token = make_token(settings.secret, person_id, kinds)
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}{quote(token)}"
