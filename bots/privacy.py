"""Personal data the bot keeps: link codes (when issued and used; never the code). The
linked chat itself is a contact address, exported and erased with the kernel's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.models import TelegramLinkCode


class TelegramData:
    name = "telegram"

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        codes = await session.scalars(
            select(TelegramLinkCode).where(TelegramLinkCode.person_id == person_id)
            .order_by(TelegramLinkCode.id)
        )
        return {
            "link_codes": [
                {
                    "created_at": code.created_at.isoformat(),
                    "expires_at": code.expires_at.isoformat(),
                    "used_at": code.used_at.isoformat() if code.used_at else None,
                }
                for code in codes
            ]
        }

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        await session.execute(
            delete(TelegramLinkCode).where(TelegramLinkCode.person_id == person_id)
        )


PRIVACY = TelegramData()
