"""Who a session cookie belongs to, remembered between requests.

Loading a signed-in person (the session, the account, the person and their roles, the class
scopes of each role) takes three statements; every signed-in request needs it. So it is
kept in memory per session token, together with the write stamps (hub.stamps) of the tables
it was read from: a role granted or revoked, an account deactivated, a child enrolled, a
session ended moves a stamp, and the next request of every affected person loads afresh.
An entry also ends with its session's expiry and after MAX_AGE at the latest (the bound for
writes no stamp saw, e.g. from another machine).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import select

from hub import clock
from hub.auth.access import Principal, load_principal
from hub.auth.models import Account, WebSession
from hub.auth.secrets import token_hash
from hub.auth.sessions import DatabaseSessionStore, SessionStore
from hub.db import Database
from hub.stamps import Stamp

# Every table a principal is read from; web_sessions only when the sessions are there.
PERSON_TABLES = (
    "accounts", "people", "role_grants", "enrolments", "guardianships", "teaching_assignments",
)
SESSION_TABLES = ("web_sessions", *PERSON_TABLES)
MAX_AGE = 60.0  # seconds
MAX_ENTRIES = 10_000
# A store other than the database answers for the session itself on every request.
_FAR = dt.timedelta(days=365)


@dataclass(frozen=True)
class Identity:
    """A signed-in person: their account (detached, read-only) and principal."""

    account: Account
    principal: Principal


@dataclass(frozen=True)
class _Entry:
    identity: Identity
    stamp: Stamp
    session_expires: dt.datetime
    loaded_at: float


class IdentityCache:
    """Session token -> Identity, one per web process."""

    def __init__(self, db: Database, sessions: SessionStore) -> None:
        self.db = db
        self.sessions = sessions
        # With database sessions the cache may also answer "is this session still alive":
        # ending one writes web_sessions. Other stores are asked on every request.
        self.sessions_in_db = isinstance(sessions, DatabaseSessionStore)
        self.tables = SESSION_TABLES if self.sessions_in_db else PERSON_TABLES
        self._entries: dict[str, _Entry] = {}

    async def identify(self, token: str) -> Identity | None:
        """The active account and principal behind a session token, or None."""
        key = token_hash(token)
        account_id: int | None = None
        if not self.sessions_in_db:
            account_id = await self.sessions.account_for(token)
            if account_id is None:
                return None
        stamp = self.db.stamps.current(self.tables)
        entry = self._entries.get(key)
        now = clock.now()
        if (
            entry is not None
            and entry.stamp == stamp
            and entry.session_expires > now
            and time.monotonic() - entry.loaded_at < MAX_AGE
            and (account_id is None or entry.identity.account.id == account_id)
        ):
            return entry.identity
        self._entries.pop(key, None)
        loaded = await self._load(key, account_id)
        if loaded is None:
            return None
        identity, expires = loaded
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = _Entry(identity, stamp, expires, time.monotonic())
        return identity

    async def _load(
        self, key: str, account_id: int | None
    ) -> tuple[Identity, dt.datetime] | None:
        async with self.db.session() as session:
            if account_id is None:
                row = (await session.execute(
                    select(Account, WebSession.expires_at)
                    .join(WebSession, WebSession.account_id == Account.id)
                    .where(WebSession.token_hash == key, WebSession.expires_at > clock.now(),
                           Account.is_active)
                )).first()
                if row is None:
                    return None
                account, expires = row
            else:
                active = await session.scalar(
                    select(Account).where(Account.id == account_id, Account.is_active)
                )
                if active is None:
                    return None
                account = active
                expires = clock.now() + _FAR
            principal = await load_principal(session, account.person)
            session.expunge_all()
        return Identity(account, principal), expires

