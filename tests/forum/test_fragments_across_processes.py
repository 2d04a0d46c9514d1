"""`hub serve --workers 2`: a topic page remembered by both processes shows a reply posted
through either of them on the very next request, on SQLite and PostgreSQL (the fragment
cache is emptied through the shared write stamps, not by its 60-second age)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.processes import (
    Browser,
    children,
    free_port,
    hub_env,
    run_hub,
    serving,
)

READS = 20  # new connections each: the kernel spreads them over both processes


def demo_sign_in(table: str, who: str) -> tuple[str, str]:
    found = re.search(rf"^{who}\s+(\S+)\s+(\S+)$", table, re.MULTILINE)
    assert found is not None, table
    return found.group(1), found.group(2)


async def test_a_reply_shows_in_both_processes_at_once(tmp_path: Path, database_url: str) -> None:
    env = hub_env(tmp_path / "var", database_url, free_port())
    table = await run_hub(env, "demo")
    base = f"http://127.0.0.1:{env['HUB_PORT']}"
    async with serving(env, workers=2) as server:
        assert len(children(server.pid)) == 2
        teacher, parent = Browser(base), Browser(base)
        await teacher.sign_in(*demo_sign_in(table, "классный руководитель 5А"))
        await parent.sign_in(*demo_sign_in(table, "родитель ученика 5А"))

        forum = await teacher.get("/forum")
        section = re.search(r'href="/forum/sections/(\d+)">Класс 5А<', forum.text)
        assert section is not None, forum.text
        created = await teacher.post(f"/forum/sections/{section.group(1)}/topics", {
            "title": "Экскурсия в музей", "body": "Кто поедет на экскурсию в пятницу?"})
        assert created.status == 303
        topic = created.location.rsplit("/", 1)[1]

        for _ in range(READS):
            page = await parent.get(f"/forum/topics/{topic}")
            assert page.status == 200 and "Кто поедет на экскурсию" in page.text
            assert "Автобус отходит в девять" not in page.text

        replied = await teacher.post(f"/forum/topics/{topic}/reply",
                                     {"body": "Автобус отходит в девять от школы."})
        assert replied.status == 303
        for _ in range(READS):
            page = await parent.get(f"/forum/topics/{topic}")
            assert "Автобус отходит в девять" in page.text
