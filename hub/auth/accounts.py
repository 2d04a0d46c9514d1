"""Accounts: issuing them (invitation or initial password), signing in with throttling
(hub.auth.throttle), accepting invitations, changing passwords."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.auth.models import Account, Invitation
from hub.auth.secrets import (
    check_new_password,
    check_password,
    hash_password,
    initial_password,
    new_token,
    token_hash,
    verify_password,
)
from hub.auth.throttle import SignInGuard
from hub.errors import Invalid
from hub.school import Person

INVITATION_LIFETIME = dt.timedelta(days=7)
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class AccountError(Invalid):
    """A request about an account that cannot be done; the message is for a person."""


@dataclass(frozen=True)
class IssuedAccount:
    account: Account
    # Exactly one of these is set: the link token to send, or the password to hand over.
    invitation_token: str | None = None
    initial_password: str | None = None


def normalise_login(login: str) -> str:
    return login.strip().lower()


async def issue_account(
    session: AsyncSession, person: Person, login: str, *, with_password: bool = False
) -> IssuedAccount:
    """An account for `person`: an invitation link (7 days), or an initial password that
    must be changed at first sign-in."""
    login = normalise_login(login)
    if not LOGIN_PATTERN.match(login):
        raise AccountError(
            "Логин: 3–64 символа, латинские буквы, цифры, точка, дефис или подчёркивание."
        )
    if await session.scalar(select(Account.id).where(Account.login == login)):
        raise AccountError(f"Логин «{login}» уже занят.")
    if await session.scalar(select(Account.id).where(Account.person_id == person.id)):
        raise AccountError("У этого человека уже есть учётная запись.")
    account = Account(person_id=person.id, login=login, person=person)
    session.add(account)
    if with_password:
        password = initial_password()
        account.password_hash = hash_password(password)
        account.must_change_password = True
        await session.flush()
        return IssuedAccount(account, initial_password=password)
    await session.flush()
    token = await invite(session, account)
    return IssuedAccount(account, invitation_token=token)


async def invite(session: AsyncSession, account: Account) -> str:
    """A new invitation link token for `account`; earlier unused ones stop working."""
    now = clock.now()
    await session.execute(
        delete(Invitation).where(Invitation.account_id == account.id, Invitation.used_at.is_(None))
    )
    token = new_token()
    session.add(
        Invitation(
            account_id=account.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    await session.flush()
    return token


async def find_invitation(session: AsyncSession, token: str) -> Invitation | None:
    """The invitation if it is valid now: known, unused and not expired."""
    invitation = await session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at < clock.now():
        return None
    return invitation


async def accept_invitation(session: AsyncSession, token: str, password: str) -> Account:
    invitation = await find_invitation(session, token)
    if invitation is None:
        raise AccountError("Приглашение недействительно: оно уже использовано или истекло.")
    account = await session.get_one(Account, invitation.account_id)
    check_new_password(password, account.login)
    account.password_hash = hash_password(password)
    account.must_change_password = False
    invitation.used_at = clock.now()
    await session.flush()
    return account


async def sign_in(
    session: AsyncSession, guard: SignInGuard, login: str, password: str, *, address: str
) -> Account | None:
    """The account if login and password match, else None. Raises
    hub.auth.throttle.SignInThrottled, before any password is checked, when this try from
    `address` is one too many."""
    login = normalise_login(login)[:64]
    await guard.admit(login, address)
    account = await session.scalar(select(Account).where(Account.login == login))
    stored = account.password_hash if account is not None and account.is_active else None
    # One hash verification on every path, so the time taken tells nothing about the login.
    matches = check_password(stored, password)
    if account is None or not matches:
        return None
    await guard.succeeded(login, address)
    account.last_login_at = clock.now()
    await session.flush()
    return account


async def change_password(
    session: AsyncSession, account: Account, current: str, new: str
) -> None:
    if not verify_password(account.password_hash, current):
        raise AccountError("Текущий пароль введён неверно.")
    if current == new:
        raise AccountError("Новый пароль должен отличаться от текущего.")
    check_new_password(new, account.login)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    await session.flush()


async def set_password(session: AsyncSession, account: Account, password: str) -> None:
    """An administrator's or the CLI's direct password set (no current password)."""
    check_new_password(password, account.login)
    account.password_hash = hash_password(password)
    await session.flush()
