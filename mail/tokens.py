"""Signed one-click unsubscribe tokens: who (a person) and what (notification kinds).

A token is `payload.signature`, both urlsafe base64 without padding; the signature is
HMAC-SHA256 with the installation's secret over a purpose label and the payload, so a token
cannot be altered or reused for another purpose. Tokens do not expire: an unsubscribe link
in a year-old letter must still work, and all it can do is switch e-mails off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadToken("not base64") from exc


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()


def make_token(secret: bytes, person_id: int, kinds: tuple[NotificationKind, ...]) -> str:
    if not kinds:
        raise ValueError("an unsubscribe token needs at least one kind")
    ordered = sorted({NotificationKind(k) for k in kinds})
    payload = f"{person_id}:{','.join(k.value for k in ordered)}".encode("ascii")
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def read_token(secret: bytes, token: str) -> Unsubscribe:
    """The token's person and kinds, or BadToken."""
    if token.count(".") != 1 or len(token) > 300:
        raise BadToken("malformed")
    payload_part, signature_part = token.split(".")
    payload = _unb64(payload_part)
    if not hmac.compare_digest(_signature(secret, payload), _unb64(signature_part)):
        raise BadToken("bad signature")
    try:
        person_part, kinds_part = payload.decode("ascii").split(":")
        kinds = tuple(NotificationKind(k) for k in kinds_part.split(","))
        return Unsubscribe(person_id=int(person_part), kinds=kinds)
    except ValueError as exc:  # signed by us, so this means a format change
        raise BadToken("unreadable payload") from exc


def unsubscribe_url(settings: Settings, person_id: int, kinds: tuple[NotificationKind, ...]) -> str:
    """The one-click link that switches off e-mails of `kinds` for the person."""
    token = make_token(settings.secret, person_id, kinds)
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}{quote(token)}"
