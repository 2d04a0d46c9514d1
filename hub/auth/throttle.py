"""Sign-in throttling: how many password tries one address, one login and the pair of them
get, counted atomically so that parallel tries cannot slip past the count.

Each try is counted *before* its password is checked, by one atomic statement (an upsert
on the database, INCR in Redis), so thirty tries sent at once are numbered 1..30 and only
the first few reach the password check. Three limits:

- a login from one address: 5 tries in 15 minutes (guessing one person's password);
- an address across logins: 20 in 15 minutes (spraying a common password over many
  predictable logins);
- a login from everywhere: 50 an hour, slower, so that a stranger guessing from one address
  is stopped by the first limit long before this one, and the person signs in from their
  own address meanwhile. Tries refused by the first limit do not count towards the
  others, so one address cannot lock a person out.

A successful sign-in clears its pair's count and gives back its try on the other two, so a
school's shared address is not throttled by parents who type their passwords right.
Counters are kept under a hash of their key: the table says nothing readable about who
tried what, and rows whose window has passed are purged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import case, delete, func
from sqlalchemy.dialects import postgresql, sqlite

from hub import clock
from hub.auth.models import SignInCounter
from hub.db import Database


@dataclass(frozen=True)
class Limit:
    scope: str
    tries: int
    window: dt.timedelta


PAIR = Limit("pair", 5, dt.timedelta(minutes=15))
ADDRESS = Limit("address", 20, dt.timedelta(minutes=15))
LOGIN = Limit("login", 50, dt.timedelta(hours=1))


class SignInThrottled(Exception):
    def __init__(self, retry_at: dt.datetime) -> None:
        super().__init__(retry_at)
        self.retry_at = retry_at


def counter_key(scope: str, *parts: str) -> str:
    return hashlib.sha256("\x00".join((scope, *parts)).encode()).hexdigest()


class Counter(Protocol):
    async def add(self, key: str, window: dt.timedelta, amount: int = 1) -> tuple[int, dt.datetime]:
        """Add `amount` to the count of the current window (a new window starts when the
        last one has ended) in one atomic step; the new count and when the window ends."""
        ...

    async def reset(self, key: str) -> None: ...


class DatabaseCounter:
    """One upsert per try: INSERT ... ON CONFLICT DO UPDATE ... RETURNING, in its own
    transaction, so it is committed before the password is checked."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, key: str, window: dt.timedelta, amount: int = 1) -> tuple[int, dt.datetime]:
        now = clock.now()
        insert = (postgresql.insert if self.db.engine.dialect.name == "postgresql"
                  else sqlite.insert)(SignInCounter)
        ended = SignInCounter.window_ends <= now
        first = insert.values(key=key, count=max(amount, 0), window_ends=now + window)
        statement = first.on_conflict_do_update(
            index_elements=[SignInCounter.key],
            set_={
                "count": case((ended, max(amount, 0)),
                              else_=func.max(SignInCounter.count + amount, 0)
                              if self.db.engine.dialect.name == "sqlite"
                              else func.greatest(SignInCounter.count + amount, 0)),
                "window_ends": case((ended, now + window), else_=SignInCounter.window_ends),
            },
        ).returning(SignInCounter.count, SignInCounter.window_ends)
        async with self.db.transaction() as session:
            count, ends = (await session.execute(statement)).one()
        return count, ends

    async def reset(self, key: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(SignInCounter).where(
                (SignInCounter.key == key) | (SignInCounter.window_ends < clock.now())
            ))


class RedisCounter:
    """SET NX with the window's expiry, then INCRBY, in one MULTI: atomic across every web
    instance."""

    PREFIX = "hub:signin:"

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, key: str, window: dt.timedelta, amount: int = 1) -> tuple[int, dt.datetime]:
        name = self.PREFIX + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=int(window.total_seconds() * 1000), nx=True)
            pipe.incrby(name, amount)
            pipe.pttl(name)
            _, count, ttl = await pipe.execute()
        if count < 0:
            await self.redis.delete(name)
        return max(int(count), 0), clock.now() + dt.timedelta(milliseconds=max(int(ttl), 0))

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.PREFIX + key)


class SignInGuard:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    async def admit(self, login: str, address: str) -> None:
        """Count this try; SignInThrottled if it is one too many on any limit."""
        for limit, key in self._keys(login, address):
            count, ends = await self.counter.add(key, limit.window)
            if count > limit.tries:
                raise SignInThrottled(ends)

    async def succeeded(self, login: str, address: str) -> None:
        for limit, key in self._keys(login, address):
            if limit is PAIR:
                await self.counter.reset(key)
            else:
                await self.counter.add(key, limit.window, -1)

    def _keys(self, login: str, address: str) -> list[tuple[Limit, str]]:
        return [
            (PAIR, counter_key(PAIR.scope, login, address)),
            (ADDRESS, counter_key(ADDRESS.scope, address)),
            (LOGIN, counter_key(LOGIN.scope, login)),
        ]
