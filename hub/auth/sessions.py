"""Server-side web sessions: in the database by default, in Redis when configured.

The cookie carries a random token; the store keeps only its SHA-256, so a leaked table or
Redis dump signs nobody in.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, select

from hub import clock
from hub.auth.models import WebSession
from hub.auth.secrets import new_token, token_hash
from hub.db import Database

SESSION_LIFETIME = dt.timedelta(days=14)


class SessionStore(Protocol):
    async def create(self, account_id: int) -> str:
        """A new session for the account; returns the cookie token."""
        ...

    async def account_for(self, token: str) -> int | None:
        """The account a live session belongs to, or None."""
        ...

    async def end(self, token: str) -> None: ...

    async def end_all(self, account_id: int, *, keep: str | None = None) -> None:
        """Sign the account out everywhere (but the session `keep`)."""
        ...


class DatabaseSessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, account_id: int) -> str:
        token = new_token()
        now = clock.now()
        async with self.db.transaction() as session:
            await session.execute(delete(WebSession).where(WebSession.expires_at < now))
            session.add(
                WebSession(
                    token_hash=token_hash(token),
                    account_id=account_id,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return token

    async def account_for(self, token: str) -> int | None:
        async with self.db.session() as session:
            return await session.scalar(
                select(WebSession.account_id).where(
                    WebSession.token_hash == token_hash(token), WebSession.expires_at > clock.now()
                )
            )

    async def end(self, token: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(WebSession).where(WebSession.token_hash == token_hash(token))
            )

    async def end_all(self, account_id: int, *, keep: str | None = None) -> None:
        query = delete(WebSession).where(WebSession.account_id == account_id)
        if keep is not None:
            query = query.where(WebSession.token_hash != token_hash(keep))
        async with self.db.transaction() as session:
            await session.execute(query)


class RedisSessionStore:
    PREFIX = "hub:session:"

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def create(self, account_id: int) -> str:
        token = new_token()
        ttl = int(SESSION_LIFETIME.total_seconds())
        key = self.PREFIX + token_hash(token)
        index = f"hub:account-sessions:{account_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, account_id, ex=ttl)
            pipe.sadd(index, key)
            pipe.expire(index, ttl)
            await pipe.execute()
        return token

    async def account_for(self, token: str) -> int | None:
        value = await self.redis.get(self.PREFIX + token_hash(token))
        return int(value) if value is not None else None

    async def end(self, token: str) -> None:
        await self.redis.delete(self.PREFIX + token_hash(token))

    async def end_all(self, account_id: int, *, keep: str | None = None) -> None:
        index = f"hub:account-sessions:{account_id}"
        kept = self.PREFIX + token_hash(keep) if keep else None
        keys = [k for k in await self.redis.smembers(index) if _text(k) != kept]
        if keys:
            await self.redis.delete(*keys)
            await self.redis.srem(index, *keys)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
