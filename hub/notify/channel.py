"""The Channel protocol: how the delivery worker hands a notification to e-mail, Telegram
or any later channel. The kernel defines it; `mail` and `bots` implement it.

A channel renders the items for its medium (e-mail templates, Telegram HTML), sends, and
answers with the provider's message id, or raises TemporaryFailure (try again later) or
PermanentFailure (never again at this address). Item texts are as people wrote them:
escaping is the channel's job.

A channel that can tell when the provider may start keeping the message (SMTP: the end of
DATA) calls `turn.begin()` just before it, so that one worker has one message at a time
between acceptance and record (hub.notify.acceptance); the others may ignore the turn.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

from hub.notify.acceptance import Turn


class NotificationKind(enum.StrEnum):
    GRADES = "grades"
    ATTENDANCE = "attendance"
    ANNOUNCEMENTS = "announcements"
    FORUM_REPLIES = "forum_replies"
    MODERATION = "moderation"


KIND_TITLES: dict[NotificationKind, str] = {
    NotificationKind.GRADES: "оценки",
    NotificationKind.ATTENDANCE: "посещаемость",
    NotificationKind.ANNOUNCEMENTS: "объявления",
    NotificationKind.FORUM_REPLIES: "ответы на форуме",
    NotificationKind.MODERATION: "решения модераторов",
}


class ChannelName(enum.StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    IN_APP = "in_app"  # the notifications page: stored, never sent


@dataclass(frozen=True)
class Item:
    """One notification's content."""

    kind: NotificationKind
    title: str  # "Оценка 5 по математике"
    body: str  # plain text
    url: str | None  # absolute link into the hub
    created_at: dt.datetime
    child_name: str | None = None  # digests group by child
    urgent: bool = False


@dataclass(frozen=True)
class Envelope:
    """What one delivery sends: one item when instant, several in a digest."""

    delivery_id: int
    person_id: int
    recipient_name: str
    address: str  # an e-mail address, or a Telegram chat id
    items: tuple[Item, ...]
    digest: bool = False


class TemporaryFailure(Exception):
    """Try again later: after `retry_after` seconds when the server said so. `uncertain`
    when the message may have been accepted all the same (the connection dropped during
    DATA): the next attempt is then counted as a possible duplicate."""

    def __init__(self, reason: str, retry_after: float | None = None, *,
                 uncertain: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.uncertain = uncertain


class PermanentFailure(Exception):
    """Never again at this address (no such mailbox, the user blocked the bot)."""

    def __init__(self, reason: str, *, fallback_to_email: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fallback_to_email = fallback_to_email


class Channel(Protocol):
    name: ChannelName

    async def send(self, envelope: Envelope, turn: Turn | None = None) -> str:
        """Send; return the provider's message id."""
        ...

    async def aclose(self) -> None: ...
