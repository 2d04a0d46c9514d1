"""`hub serve --workers 2`: two processes on one port, on SQLite and PostgreSQL; an account
deactivated from a third process is signed out in both at once (hub.stamps)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from hub.auth.models import Account
from hub.compose import database
from hub.directory import set_account_active
from tests.support.processes import (
    Browser,
    children,
    free_port,
    hub_env,
    run_hub,
    serving,
)

READS = 20  # new connections each: the kernel spreads them over both processes


async def test_two_processes_share_the_port_and_see_a_deactivation(
    tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "var"
    env = hub_env(data_dir, database_url, free_port())
    async with serving(env, workers=2) as server:
        assert len(children(server.pid)) == 2
        created = await run_hub(env, "user", "create", "parent", "--last-name", "Петрова",
                                "--first-name", "Мария", "--role", "parent")
        password = re.search(r"initial password: (\S+)", created)
        assert password is not None
        parent = Browser(f"http://127.0.0.1:{env['HUB_PORT']}")
        await parent.sign_in("parent", password.group(1))
        for _ in range(READS):
            assert (await parent.get("/account/password")).status == 200

        outside = database(database_url, stamps_dir=data_dir / "stamps")
        async with outside.transaction() as session:
            account = await session.scalar(select(Account).where(Account.login == "parent"))
            assert account is not None
            await set_account_active(session, account, False)
        await outside.dispose()
        for _ in range(READS):
            assert (await parent.get("/account/password")).status == 303
