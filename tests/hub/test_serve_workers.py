"""`hub serve --workers 2`: two processes on one port, on SQLite and PostgreSQL; an account
deactivated from a third process is signed out in both at once (hub.stamps)."""

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
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, text

from hub.auth.models import Account
from hub.compose import database
from hub.db import Database
from hub.directory import set_account_active
from tests.support.services import need_postgres

ROOT = Path(__file__).resolve().parents[2]
HUB = [sys.executable, "-c", "from hub.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
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


async def test_two_processes_share_the_port_and_see_a_deactivation(
    tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "var"
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
           "HUB_DATA_DIR": str(data_dir), "HUB_DATABASE_URL": database_url,
           "HUB_PORT": str(port), "HUB_EMBEDDED_WORKER": "false",
           "HUB_SECRET_KEY": "test-secret-key-" + "x" * 32, "PYTHONPATH": str(ROOT)}
    server = await asyncio.create_subprocess_exec(
        *HUB, "serve", "--workers", "2", env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            for _ in range(300):
                try:
                    async with client.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("hub serve --workers 2 did not answer")
            children = _children(server.pid)
            assert len(children) == 2
            creating = await asyncio.create_subprocess_exec(
                *HUB, "user", "create", "parent", "--last-name", "Петрова",
                "--first-name", "Мария", "--role", "parent",
                env=env, cwd=ROOT, stdout=subprocess.PIPE)
            created, _ = await creating.communicate()
            password = re.search(r"initial password: (\S+)", created.decode())
            assert password is not None
            async with client.get(f"{base}/signin") as response:
                page = await response.text()
            found = re.search(r'<meta name="csrf-token" content="([^"]*)">', page)
            assert found is not None
            csrf = found.group(1)
            async with client.post(f"{base}/signin", allow_redirects=False, data={
                "csrf_token": csrf, "login": "parent", "password": password.group(1),
            }) as response:
                assert response.status == 303
            # Many requests: the kernel spreads the connections over both processes.
            for _ in range(20):
                async with aiohttp.ClientSession(cookies=_cookies(client)) as fresh:
                    async with fresh.get(f"{base}/account/password",
                                         allow_redirects=False) as response:
                        assert response.status == 200

            outside = database(database_url, stamps_dir=data_dir / "stamps")
            async with outside.transaction() as session:
                account = await session.scalar(select(Account).where(Account.login == "parent"))
                assert account is not None
                await set_account_active(session, account, False)
            await outside.dispose()
            for _ in range(20):
                async with aiohttp.ClientSession(cookies=_cookies(client)) as fresh:
                    async with fresh.get(f"{base}/account/password",
                                         allow_redirects=False) as response:
                        assert response.status == 303
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(server.communicate(), timeout=30)
    assert server.returncode == 0, errors.decode()[-3000:]


def _cookies(client: aiohttp.ClientSession) -> dict[str, str]:
    return {c.key: c.value for c in client.cookie_jar}


def _children(pid: int) -> list[int]:
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
