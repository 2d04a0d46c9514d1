"""API tokens that an administrator issues (for the school's journal and scripts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.auth.access import Principal, TokenScope
from hub.auth.models import ApiToken
from hub.auth.secrets import new_token, token_hash

TOKEN_PREFIX = "hub_"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


async def issue_token(
    session: AsyncSession,
    school_id: int,
    name: str,
    scopes: Iterable[TokenScope],
    *,
    created_by_id: int | None = None,
) -> IssuedToken:
    chosen = sorted({TokenScope(s) for s in scopes})
    if not chosen:
        raise ValueError("a token needs at least one scope")
    secret = new_token(TOKEN_PREFIX)
    token = ApiToken(
        school_id=school_id,
        name=name.strip()[:100] or "token",
        token_hash=token_hash(secret),
        scopes=" ".join(chosen),
        created_by_id=created_by_id,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token, secret)


async def principal_for_token(session: AsyncSession, secret: str) -> Principal | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = clock.now()
    return Principal(
        school_id=token.school_id,
        person_id=None,
        token_id=token.id,
        token_scopes=frozenset(TokenScope(s) for s in token.scopes.split()),
    )


async def revoke_token(session: AsyncSession, school_id: int, token_id: int) -> bool:
    token = await session.get(ApiToken, token_id)
    if token is None or token.school_id != school_id or token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    await session.flush()
    return True
