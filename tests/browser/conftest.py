"""Browser tests: the whole app served on 127.0.0.1 and a headless Chromium (Playwright).

Skipped with a reason when Chromium or Playwright is missing, unless HUB_REQUIRE_SERVICES=1
(CI), where that is a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from hub import events
from hub.compose import web_app
from hub.config import Settings
from hub.db import Database
from tests.support.clock import real_time_env

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("HUB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"browser tests need {reason}")
    pytest.skip(f"browser tests need {reason}")


def _chromium_present() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is not None


@pytest.fixture
async def live_url(settings: Settings, db: Database) -> AsyncIterator[str]:
    """The whole app on db, served on 127.0.0.1 at a free port."""
    runner = web.AppRunner(web_app(settings, db=db))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await events.settle()


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium browser (playwright.async_api.Browser)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package")
    if not _chromium_present():
        _unavailable(f"Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=real_time_env()
        )
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in_page(page: Any, base: str, login: str, password: str) -> None:
    """Sign in through the real form."""
    await page.goto(f"{base}/signin")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
