"""Notes to open pages after a commit: ids only; pages fetch what changed through the
ordinary, access-checked views."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.broker import get_broker, live_channel
from hub.events import after_commit


def note_after_commit(session: AsyncSession, kind: str, ident: int, **note: int | str) -> None:
    """After the transaction commits, tell pages listening on (kind, ident)."""

    async def send() -> None:
        await get_broker().publish(live_channel(kind, ident), dict(note))

    after_commit(session, send)
