"""Tables of the Telegram bot: link codes, processed updates, the polling lease.

The chat a person is linked to is not here: it is their Telegram contact address
(hub.notify.addresses.ContactAddress, channel TELEGRAM, address = the chat id), which the
notification pipeline reads.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base


class TelegramLinkCode(Base):
    """A single-use code of a deep link t.me/<bot>?start=<code>; only its hash is kept."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class TelegramUpdate(Base):
    """An update some instance has taken: the first insert wins, the others skip it."""

    __tablename__ = "telegram_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)


class TelegramPollLease(Base):
    """Which `hub bot` process may call getUpdates for a bot, until when."""

    __tablename__ = "telegram_poll_leases"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime]
