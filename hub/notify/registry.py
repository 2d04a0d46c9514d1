"""The one-click unsubscribe link of an instant message (RFC 8058).

The mail package owns the endpoint and its signed token, so it provides the builder; the
composition root hands it over at start-up, and the kernel never imports a channel.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.config import Settings

UnsubscribeLink = Callable[[Settings, int, str], str | None]  # (settings, person id, kind)
_unsubscribe_link: UnsubscribeLink | None = None


def set_unsubscribe_link(builder: UnsubscribeLink | None) -> None:
    global _unsubscribe_link
    _unsubscribe_link = builder


def unsubscribe_link(settings: Settings, person_id: int, kind: str) -> str | None:
    return _unsubscribe_link(settings, person_id, kind) if _unsubscribe_link else None
