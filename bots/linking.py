"""Linking a Telegram chat to a person: single-use codes, the binding, unlinking.

A person asks for a code on their profile page and opens t.me/<bot>?start=<code>; the bot
redeems the code for the chat it came from. A chat belongs to one person: linking it again
moves it. The binding is the person's Telegram contact address.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.models import TelegramLinkCode
from hub import clock
from hub.auth.models import Account
from hub.notify.addresses import ContactAddress, set_address
from hub.notify.channel import ChannelName
from hub.school import Person

CODE_LIFETIME = dt.timedelta(minutes=15)
# Telegram's start parameter allows up to 64 of [A-Za-z0-9_-]; 24 bytes give 32 characters.
_CODE_BYTES = 24
_CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class LinkRefusal(enum.StrEnum):
    UNKNOWN = "unknown"  # never issued, mistyped or forged
    USED = "used"
    EXPIRED = "expired"


class LinkRefused(Exception):
    def __init__(self, reason: LinkRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: dt.datetime


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def issue_link_code(
    session: AsyncSession, person_id: int, *, now: dt.datetime | None = None
) -> IssuedCode:
    """A fresh code for the person; their earlier unused codes stop working."""
    now = now or clock.now()
    await session.execute(
        delete(TelegramLinkCode).where(
            TelegramLinkCode.person_id == person_id, TelegramLinkCode.used_at.is_(None)
        )
    )
    code = secrets.token_urlsafe(_CODE_BYTES)
    row = TelegramLinkCode(
        person_id=person_id, code_hash=_hash(code), created_at=now, expires_at=now + CODE_LIFETIME
    )
    session.add(row)
    await session.flush()
    return IssuedCode(code=code, expires_at=row.expires_at)


async def redeem_link_code(
    session: AsyncSession, code: str, chat_id: int, *, now: dt.datetime | None = None
) -> Person:
    """Bind `chat_id` to the code's person and use the code up, or raise LinkRefused."""
    now = now or clock.now()
    if not code or len(code) > 64 or not set(code) <= _CODE_ALPHABET:
        raise LinkRefused(LinkRefusal.UNKNOWN)
    row = await session.scalar(
        select(TelegramLinkCode).where(TelegramLinkCode.code_hash == _hash(code))
        .with_for_update()
    )
    if row is None:
        raise LinkRefused(LinkRefusal.UNKNOWN)
    if row.used_at is not None:
        raise LinkRefused(LinkRefusal.USED)
    if row.expires_at <= now:
        raise LinkRefused(LinkRefusal.EXPIRED)
    row.used_at = now
    await _release_chat(session, chat_id, keep_person_id=row.person_id)
    await set_address(session, row.person_id, ChannelName.TELEGRAM, str(chat_id))
    return await session.get_one(Person, row.person_id)


async def _release_chat(session: AsyncSession, chat_id: int, keep_person_id: int | None) -> None:
    condition = (ContactAddress.channel == ChannelName.TELEGRAM) & (
        ContactAddress.address == str(chat_id)
    )
    if keep_person_id is not None:
        condition &= ContactAddress.person_id != keep_person_id
    await session.execute(delete(ContactAddress).where(condition))
    await session.flush()


async def unlink_chat(session: AsyncSession, chat_id: int) -> bool:
    """Forget whoever the chat is linked to; answers whether it was linked."""
    linked = await person_for_chat(session, chat_id)
    await _release_chat(session, chat_id, keep_person_id=None)
    return linked is not None


async def unlink_person(session: AsyncSession, person_id: int) -> None:
    await session.execute(
        delete(ContactAddress).where(
            ContactAddress.person_id == person_id,
            ContactAddress.channel == ChannelName.TELEGRAM,
        )
    )
    await session.flush()


async def person_for_chat(session: AsyncSession, chat_id: int) -> Person | None:
    """The person this chat is linked to. A chat whose address was disabled (the user
    blocked the bot) is no longer linked: it must be linked anew. Nor is the chat of a
    person whose account was deactivated: the bot shows nothing the web would not."""
    return await session.scalar(
        select(Person).join(ContactAddress, ContactAddress.person_id == Person.id)
        .join(Account, Account.person_id == Person.id).where(
            ContactAddress.channel == ChannelName.TELEGRAM,
            ContactAddress.address == str(chat_id),
            ContactAddress.disabled_at.is_(None),
            Account.is_active.is_(True),
        ).limit(1)
    )


@dataclass(frozen=True)
class LinkState:
    linked: bool
    since: dt.datetime | None = None
    disabled_reason: str | None = None  # set when the bot was blocked and the link dropped


async def link_state(session: AsyncSession, person_id: int) -> LinkState:
    row = await session.get(ContactAddress, (person_id, ChannelName.TELEGRAM))
    if row is None:
        return LinkState(linked=False)
    if row.disabled_at is not None:
        return LinkState(linked=False, since=row.updated_at, disabled_reason=row.disabled_reason)
    return LinkState(linked=True, since=row.updated_at)
