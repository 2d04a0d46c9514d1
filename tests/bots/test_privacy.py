"""The bot's personal data in a person's export and erasure: link codes (never the code
itself), and the linked chat as a contact address."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bots.models import TelegramLinkCode
from hub.compose import privacy_sources
from hub.db import Database
from hub.privacy import erase_person, export_person
from tests.support.telegram_api import FakeBotAPI

from .conftest import Family, link_chat, link_code


async def test_export_lists_link_codes_and_erasure_removes_them_and_the_chat(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    await link_chat(hub, api, "parent", 4001)
    code = await link_code(hub, "parent")  # a second, unused one
    async with db.session() as session:
        exported = await export_person(session, family.parent.id, privacy_sources())
    codes = exported["sources"]["telegram"]["link_codes"]
    assert len(codes) == 2 and sum(c["used_at"] is not None for c in codes) == 1
    assert code not in str(exported)
    assert any(a["channel"] == "telegram" and a["address"] == "4001"
               for a in exported["contact_addresses"])

    async with db.transaction() as session:
        await erase_person(session, family.parent.id, privacy_sources())
    async with db.session() as session:
        left = await session.scalar(select(func.count()).select_from(TelegramLinkCode))
    assert left == 0
    await api.send_user_message(4001, "/grades")
    assert "не привязан" in api.messages(4001)[-1].text
