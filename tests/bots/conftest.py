"""Fixtures for the bot: a fake Bot API server, the hub in webhook mode pointed at it, a
parent with a child, and linking a chat the way a parent does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub import events
from hub.compose import web_app
from hub.config import Settings
from hub.db import Database
from hub.school import Person
from tests.support.school import SchoolBuilder
from tests.support.telegram_api import FakeBotAPI
from tests.support.web import post_form, sign_in

SECRET = "webhook-secret_123"
CODE_RE = re.compile(r"https://t\.me/school_hub_bot\?start=([A-Za-z0-9_-]+)")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token="123456:TEST", username="school_hub_bot") as server:
        yield server


@pytest.fixture
def tg_settings(tmp_path: Path, api: FakeBotAPI) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-" + "x" * 32,
        public_url="http://hub.test",
        telegram_bot_token=api.token,
        telegram_bot_username=api.username,
        telegram_mode="webhook",
        telegram_webhook_secret=SECRET,
        telegram_api_base=api.base_url,
    )


async def start_hub(settings: Settings, db: Database, api: FakeBotAPI) -> TestClient:
    """A hub instance on `db`, with the fake server's webhook pointing at it."""
    client = TestClient(TestServer(web_app(settings, db=db)))
    await client.start_server()
    await api.bot().set_webhook(str(client.make_url("/telegram/webhook")), secret_token=SECRET)
    return client


@pytest.fixture
async def hub(tg_settings: Settings, db: Database, api: FakeBotAPI) -> AsyncIterator[TestClient]:
    client = await start_hub(tg_settings, db, api)
    yield client
    await client.close()
    await events.settle()


@dataclass
class Family:
    parent: Person
    child: Person
    other_child: Person  # in another family, in another class
    login: str = "parent"


@pytest.fixture
async def family(school: SchoolBuilder) -> Family:
    child = await school.student("5А", last_name="Петрова", first_name="Маша")
    other = await school.student("5Б", last_name="Сидоров", first_name="Коля")
    parent = await school.parent_of(child, login="parent", last_name="Петрова",
                                    first_name="Анна")
    await school.parent_of(other, login="other_parent", last_name="Сидорова",
                           first_name="Ольга")
    return Family(parent=parent, child=child, other_child=other)


async def link_code(hub: TestClient, login: str) -> str:
    """Sign in as `login` and get a link code from the profile's Telegram page."""
    await sign_in(hub, login)
    response = await post_form(hub, "/profile/telegram/code")
    assert response.status == 200, await response.text()
    match = CODE_RE.search(await response.text())
    assert match, "the page shows no deep link"
    return match.group(1)


async def link_chat(hub: TestClient, api: FakeBotAPI, login: str, chat_id: int) -> None:
    code = await link_code(hub, login)
    api.chat(chat_id)
    await api.send_user_message(chat_id, f"/start {code}")
    assert "привязан" in api.messages(chat_id)[-1].text


def last_text(api: FakeBotAPI, chat_id: int) -> str:
    messages = api.messages(chat_id)
    assert messages, f"the bot wrote nothing to chat {chat_id}"
    return messages[-1].text
