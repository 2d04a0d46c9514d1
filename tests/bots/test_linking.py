"""Linking a chat to an account: the profile's link, /start with valid, expired, reused and
forged codes, /stop, relinking, and the webhook's secret."""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from bots.models import TelegramLinkCode
from hub import clock
from hub.auth.models import Account
from hub.db import Database
from hub.notify.addresses import addresses_of
from hub.notify.channel import ChannelName
from tests.support.telegram_api import FakeBotAPI
from tests.support.web import post_form, sign_in

from .conftest import SECRET, Family, last_text, link_chat, link_code


async def telegram_of(db: Database, person_id: int) -> str | None:
    async with db.session() as session:
        return (await addresses_of(session, [person_id]))[person_id].get(ChannelName.TELEGRAM)


async def test_profile_page_gives_a_deep_link_with_a_qr_code(
    hub: TestClient, family: Family
) -> None:
    await sign_in(hub, "parent")
    page = await hub.get("/profile/telegram")
    assert page.status == 200
    assert "Telegram не привязан" in await page.text()
    response = await post_form(hub, "/profile/telegram/code")
    html = await response.text()
    assert "https://t.me/school_hub_bot?start=" in html
    assert "<svg" in html  # the QR code, inline


async def test_a_valid_code_links_the_chat(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    code = await link_code(hub, "parent")
    api.chat(7001)
    await api.send_user_message(7001, f"/start {code}")
    assert "Готово, Анна" in last_text(api, 7001)
    assert await telegram_of(db, family.parent.id) == "7001"
    page = await hub.get("/profile/telegram")
    assert "Telegram привязан" in await page.text()


async def test_an_expired_code_is_refused_with_a_clear_message(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    code = await link_code(hub, "parent")
    async with db.transaction() as session:
        past = clock.now() - dt.timedelta(seconds=1)
        await session.execute(update(TelegramLinkCode).values(expires_at=past))
    api.chat(7002)
    await api.send_user_message(7002, f"/start {code}")
    assert "Срок действия ссылки истёк" in last_text(api, 7002)
    assert await telegram_of(db, family.parent.id) is None


async def test_a_used_code_is_refused(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    code = await link_code(hub, "parent")
    api.chat(7003)
    api.chat(7004)
    await api.send_user_message(7003, f"/start {code}")
    await api.send_user_message(7004, f"/start {code}")
    assert "уже использована" in last_text(api, 7004)
    assert await telegram_of(db, family.parent.id) == "7003"


async def test_forged_codes_are_refused(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    real = await link_code(hub, "parent")
    api.chat(7005)
    for forged in ("abc", real[:-1] + ("A" if real[-1] != "A" else "B"), "x" * 64, "<b>"):
        await api.send_user_message(7005, f"/start {forged}")
        assert "Ссылка недействительна" in last_text(api, 7005)
    assert await telegram_of(db, family.parent.id) is None


async def test_a_new_code_voids_the_previous_one(
    hub: TestClient, api: FakeBotAPI, family: Family
) -> None:
    first = await link_code(hub, "parent")
    await link_code(hub, "parent")
    api.chat(7006)
    await api.send_user_message(7006, f"/start {first}")
    assert "Ссылка недействительна" in last_text(api, 7006)


async def test_stop_unlinks_and_the_chat_gets_no_more_data(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    await link_chat(hub, api, "parent", 7007)
    await api.send_user_message(7007, "/stop")
    assert "Чат отвязан" in last_text(api, 7007)
    assert await telegram_of(db, family.parent.id) is None
    await api.send_user_message(7007, "/grades")
    assert "не привязан" in last_text(api, 7007)
    assert "Маша" not in last_text(api, 7007)


async def test_linking_a_chat_again_moves_it_to_the_new_account(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    await link_chat(hub, api, "parent", 7008)
    await link_chat(hub, api, "other_parent", 7008)
    assert await telegram_of(db, family.parent.id) is None
    async with db.session() as session:
        other_id = next(
            pid for pid, addr in (await addresses_of(session, list(range(1, 50)))).items()
            if addr.get(ChannelName.TELEGRAM) == "7008"
        )
    assert other_id != family.parent.id
    await api.send_user_message(7008, "/grades")
    assert "Сидоров" in last_text(api, 7008) and "Петрова" not in last_text(api, 7008)


async def test_unlink_on_the_profile_page(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    await link_chat(hub, api, "parent", 7009)
    response = await post_form(hub, "/profile/telegram/unlink")
    assert response.status == 303
    assert await telegram_of(db, family.parent.id) is None


async def test_profile_page_needs_sign_in(hub: TestClient) -> None:
    response = await hub.get("/profile/telegram", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/signin")


async def test_webhook_with_a_wrong_secret_is_refused_and_nothing_handled(
    hub: TestClient, api: FakeBotAPI, family: Family
) -> None:
    api.chat(7010)
    update = {
        "update_id": 99, "message": {
            "message_id": 1, "date": 0, "text": "/start",
            "chat": {"id": 7010, "type": "private"},
            "from": {"id": 7010, "is_bot": False, "first_name": "X"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
        response = await hub.post("/telegram/webhook", json=update, headers=headers)
        assert response.status == 401
    assert api.messages(7010) == []
    right = await hub.post("/telegram/webhook", json=update,
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert right.status == 200
    assert "не привязан" in last_text(api, 7010)


async def test_a_deactivated_account_gets_no_data_in_its_linked_chat(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family
) -> None:
    await link_chat(hub, api, "parent", 7011)
    async with db.transaction() as session:
        await session.execute(
            update(Account).where(Account.person_id == family.parent.id).values(is_active=False)
        )
    await api.send_user_message(7011, "/grades")
    assert "не привязан" in last_text(api, 7011)
    assert "Маша" not in last_text(api, 7011)


async def test_webhook_refuses_what_is_not_an_update(hub: TestClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body in (b"not json", b'{"message": 1}', b"[]"):
        response = await hub.post("/telegram/webhook", data=body, headers=headers)
        assert response.status == 400
