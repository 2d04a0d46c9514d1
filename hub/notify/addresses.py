"""Where a person is reached on each channel: their e-mail, a linked Telegram chat.

Channels write here (the bot when a chat is linked or blocks it), the pipeline reads here,
so the kernel never needs to import a channel. An address that failed for good is kept
with the reason, disabled, and not used again until it is set anew.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Select, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base, str_enum
from hub.notify.channel import ChannelName
from hub.school import Person


class ContactAddress(Base):
    __tablename__ = "contact_addresses"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[ChannelName] = mapped_column(
        str_enum(ChannelName, "channel_name"),
        primary_key=True,
    )
    address: Mapped[str] = mapped_column(String(254), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    disabled_at: Mapped[dt.datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


async def set_address(
    session: AsyncSession, person_id: int, channel: ChannelName, address: str
) -> None:
    row = await session.get(ContactAddress, (person_id, channel))
    if row is None:
        session.add(ContactAddress(person_id=person_id, channel=channel, address=address))
    else:
        row.address, row.updated_at = address, clock.now()
        row.disabled_at = row.disabled_reason = None
    await session.flush()


async def disable_address(
    session: AsyncSession, person_id: int, channel: ChannelName, reason: str
) -> None:
    row = await session.get(ContactAddress, (person_id, channel))
    if row is not None and row.disabled_at is None:
        row.disabled_at, row.disabled_reason = clock.now(), reason[:200]
        await session.flush()


async def remove_address(session: AsyncSession, person_id: int, channel: ChannelName) -> None:
    row = await session.get(ContactAddress, (person_id, channel))
    if row is not None:
        await session.delete(row)
        await session.flush()


async def addresses_of(
    session: AsyncSession, person_ids: list[int] | Select[int]
) -> dict[int, dict[ChannelName, str]]:
    """Live addresses per person. E-mail comes from the person's record unless an e-mail
    address here overrides or disables it. `person_ids` may be a SELECT of the ids (a
    whole audience): then anyone without an address reads as none."""
    return (await reach_of(session, person_ids)).live


@dataclass(frozen=True)
class Reach:
    """Where people are reached (`live`), and the channels on which their address failed
    for good and was not set anew (`disabled`: a chat that blocked the bot)."""

    live: dict[int, dict[ChannelName, str]]
    disabled: dict[int, set[ChannelName]]


async def reach_of(session: AsyncSession, person_ids: list[int] | Select[int]) -> Reach:
    """`addresses_of`, with the disabled channels read by the same queries."""
    ids: list[int] | Select[int]
    result: dict[int, dict[ChannelName, str]]
    disabled: dict[int, set[ChannelName]] = defaultdict(set)
    if isinstance(person_ids, Select):
        ids = person_ids
        result = defaultdict(dict)
    else:
        ids = sorted(set(person_ids))
        result = {pid: {} for pid in ids}
        if not ids:
            return Reach(result, disabled)
    for pid, email in await session.execute(
        select(Person.id, Person.email).where(Person.id.in_(ids), Person.email.is_not(None))
    ):
        if email:
            result[pid][ChannelName.EMAIL] = email
    for row in await session.scalars(
        select(ContactAddress).where(ContactAddress.person_id.in_(ids))
    ):
        if row.disabled_at is None:
            result[row.person_id][row.channel] = row.address
        else:
            result[row.person_id].pop(row.channel, None)
            disabled[row.person_id].add(row.channel)
    return Reach(result, disabled)
