"""Several hub instances, one bot: each update is handled once, one process polls.

`UpdateGate.claim` lets exactly one instance take an update (an insert-or-ignore in the
database, or SET NX in Redis when configured). `PollLease` lets one `hub bot` process call
getUpdates at a time (a lease row in the database, or a Redis key with an expiry); the
others wait and take over when the holder stops renewing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bots.models import TelegramPollLease, TelegramUpdate
from hub import clock
from hub.db import Database, changed_rows

# Telegram keeps an unconfirmed update for 24 hours; remembering ours a little longer
# covers any redelivery.
REMEMBER_UPDATES = dt.timedelta(hours=25)
_PRUNE_EVERY = 500


class UpdateGate(Protocol):
    async def claim(self, update_id: int) -> bool:
        """True for the one caller that takes this update."""
        ...

    async def release(self, update_id: int) -> None:
        """Give an update back (its handling failed), so a redelivery is handled."""
        ...


class DatabaseUpdateGate:
    def __init__(self, db: Database, bot_id: int) -> None:
        self.db = db
        self.bot_id = bot_id
        self._claims = 0

    async def claim(self, update_id: int) -> bool:
        dialect = postgresql if not self.db.is_sqlite else sqlite
        statement = (
            dialect.insert(TelegramUpdate)
            .values(bot_id=self.bot_id, update_id=update_id, received_at=clock.now())
            .on_conflict_do_nothing()
        )
        async with self.db.transaction() as session:
            changed = await changed_rows(session, statement)
            taken = changed == 1
        self._claims += 1
        if self._claims % _PRUNE_EVERY == 0:
            await self._prune()
        return taken

    async def release(self, update_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(TelegramUpdate).where(
                    TelegramUpdate.bot_id == self.bot_id, TelegramUpdate.update_id == update_id
                )
            )

    async def _prune(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(TelegramUpdate).where(
                    TelegramUpdate.received_at < clock.now() - REMEMBER_UPDATES
                )
            )


class RedisUpdateGate:
    def __init__(self, redis: Redis, bot_id: int) -> None:
        self.redis = redis
        self.prefix = f"hub:telegram:{bot_id}:update:"

    async def claim(self, update_id: int) -> bool:
        ttl = int(REMEMBER_UPDATES.total_seconds())
        return bool(await self.redis.set(self.prefix + str(update_id), 1, nx=True, ex=ttl))

    async def release(self, update_id: int) -> None:
        await self.redis.delete(self.prefix + str(update_id))


class PollLease(Protocol):
    holder: str

    async def acquire(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        ...

    async def release(self) -> None: ...


def new_holder() -> str:
    return secrets.token_hex(8)


class DatabasePollLease:
    def __init__(self, db: Database, bot_id: int, *, ttl: float = 30.0) -> None:
        self.db = db
        self.bot_id = bot_id
        self.ttl = dt.timedelta(seconds=ttl)
        self.holder = new_holder()

    async def acquire(self) -> bool:
        now = clock.now()
        async with self.db.transaction() as session:
            changed = await changed_rows(session,
                update(TelegramPollLease)
                .where(
                    TelegramPollLease.bot_id == self.bot_id,
                    (TelegramPollLease.holder == self.holder)
                    | (TelegramPollLease.lease_until < now),
                )
                .values(holder=self.holder, lease_until=now + self.ttl)
            )
            if changed == 1:
                return True
        try:
            async with self.db.transaction() as session:
                session.add(TelegramPollLease(
                    bot_id=self.bot_id, holder=self.holder, lease_until=now + self.ttl
                ))
        except IntegrityError:
            return False  # someone else holds it
        return True

    async def release(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(TelegramPollLease).where(
                    TelegramPollLease.bot_id == self.bot_id,
                    TelegramPollLease.holder == self.holder,
                )
            )


# Renew only a lease we hold; a lease that expired and was taken by another stays theirs.
_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == false then
  return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisPollLease:
    def __init__(self, redis: Redis, bot_id: int, *, ttl: float = 30.0) -> None:
        self.key = f"hub:telegram:{bot_id}:poller"
        self.ttl_ms = int(ttl * 1000)
        self.holder = new_holder()
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        return bool(await self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.holder])
