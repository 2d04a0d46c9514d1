"""Real `hub` processes for tests: a free port, a database of their own on SQLite or
PostgreSQL, `hub serve --workers N` started and stopped, and a browser-like client that
signs in with the page's CSRF token."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from hub.db import Database
from tests.support.services import need_postgres

ROOT = Path(__file__).resolve().parents[2]
HUB = [sys.executable, "-c", "from hub.cli import main; main()"]
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database for hub processes: a file under tmp_path/var, or a fresh PostgreSQL
    database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'hub.db'}"
        return
    base = need_postgres()
    name = f"serve_{uuid.uuid4().hex[:10]}"
    admin = Database(base, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    async with admin.engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def hub_env(data_dir: Path, database_url: str, port: int) -> dict[str, str]:
    """The environment of a hub process: this machine's, without any HUB_* setting of the
    caller's, plus the given data folder, database and port."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
            "HUB_DATA_DIR": str(data_dir), "HUB_DATABASE_URL": database_url,
            "HUB_PORT": str(port), "HUB_EMBEDDED_WORKER": "false",
            "HUB_SECRET_KEY": "test-secret-key-" + "x" * 32, "PYTHONPATH": str(ROOT)}


async def run_hub(env: dict[str, str], *args: str) -> str:
    """Runs one `hub` command to the end and returns what it printed."""
    process = await asyncio.create_subprocess_exec(
        *HUB, *args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()[-3000:]
    return out.decode()


@asynccontextmanager
async def serving(env: dict[str, str], workers: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """`hub serve --workers N` until the block ends; it must then stop cleanly."""
    server = await asyncio.create_subprocess_exec(
        *HUB, "serve", "--workers", str(workers), env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        await _until_healthy(f"http://127.0.0.1:{env['HUB_PORT']}")
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(server.communicate(), timeout=30)
    assert server.returncode == 0, errors.decode()[-3000:]


async def _until_healthy(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        for _ in range(300):
            try:
                async with client.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("hub serve did not answer /healthz")


class Browser:
    """One signed-in person against a live server. Every request opens a new connection,
    so with several processes on one port the kernel spreads them over all of them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    async def sign_in(self, login: str, password: str) -> None:
        self.cookies = {}
        await self.get("/signin")
        response = await self.post("/signin", {"login": login, "password": password})
        assert response.status == 303, response.text
        await self.get("/")

    async def get(self, path: str) -> Page:
        return await self._request("GET", path, None)

    async def post(self, path: str, form: dict[str, str]) -> Page:
        return await self._request("POST", path, {"csrf_token": self.csrf, **form})

    async def _request(self, method: str, path: str, form: dict[str, str] | None) -> Page:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         cookies=self.cookies) as session:
            async with session.request(method, self.base + path, data=form,
                                       allow_redirects=False) as response:
                page = Page(response.status, await response.text(),
                            response.headers.get("Location", ""))
            self.cookies.update({c.key: c.value for c in session.cookie_jar})
        if found := _CSRF_META.search(page.text):
            self.csrf = found.group(1)
        return page


@dataclass(frozen=True)
class Page:
    status: int
    text: str
    location: str


def children(pid: int) -> list[int]:
    """The pids of a process's children (the workers of `hub serve --workers N`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found
