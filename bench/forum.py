"""Benchmark of the signed-in pages, each as a share of the one-query ceiling.

    .venv/bin/python bench/forum.py [--seconds 5] [--connections 32] [--database URL]

Seeds a database (SQLite in a temporary folder by default; with a PostgreSQL URL a fresh
database, dropped at the end), then serves the whole hub and the ceiling (a bare aiohttp
handler doing one SQLAlchemy query on the same database, bench/pageload.py) each in its own
process, and loads them with wrk one after the other: a signed-in profile, a topic page of
50 posts, the board (20 announcements), posting a reply (sanitize + moderation screening +
write, one transaction each). Prints requests per second, the server's CPU time per
request, and each page's share of the ceiling by both. The ceiling runs on asyncio's loop
(a stock aiohttp application); `hub serve` runs on uvloop when it is installed, so the
ceiling on uvloop is measured too: a page's share of it is the stricter figure.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import yarl  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench import pageload  # noqa: E402
from forum import board, topics  # noqa: E402
from forum.models import Audience  # noqa: E402
from hub import migrate  # noqa: E402
from hub.auth import accounts  # noqa: E402
from hub.auth.access import load_principal  # noqa: E402
from hub.auth.secrets import use_cheap_hashing  # noqa: E402
from hub.compose import database  # noqa: E402
from hub.db import Database  # noqa: E402
from hub.school import Role, create_person, create_school  # noqa: E402

PASSWORD = "bench password 123"


async def seed(db: Database, data_dir: Path) -> int:
    """A school, a coordinator with an account, 20 announcements, a topic of 50 posts."""
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", "bench")
        person = await create_person(session, school.id, last_name="Главная",
                                     first_name="Елена", roles=[Role.COORDINATOR])
        issued = await accounts.issue_account(session, person, "coord", with_password=True)
        await accounts.set_password(session, issued.account, PASSWORD)
        issued.account.must_change_password = False
        principal = await load_principal(session, person)
        for number in range(20):
            await board.create_announcement(session, principal, board.Draft(
                title=f"Объявление {number}",
                body=f"Текст объявления номер {number}: **важно**, см. [сайт](https://example.org).",
                audience=Audience.SCHOOL,
            ), data_dir=data_dir)
        await topics.ensure_sections(session, school.id)
    async with db.transaction() as session:
        from sqlalchemy import select

        from forum.models import Section

        section = await session.scalar(select(Section.id).where(Section.key == "school"))
        assert section is not None
        written = await topics.create_topic(
            session, principal, section, title="Экскурсия в музей",
            body="Кто поедет на экскурсию в пятницу?",
        )
        for number in range(49):
            await topics.reply(session, principal, written.topic.id,
                               body=f"Ответ номер {number}: *да*, поеду, > цитата\n\nещё абзац")
        return written.topic.id


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


async def page_csrf(session: aiohttp.ClientSession, url: str) -> str:
    """The CSRF token a page gives its forms (an HMAC of the visitor's cookie before
    signing in, of the session after), as a browser's form would repeat it."""
    async with session.get(url) as response:
        found = CSRF_META.search(await response.text())
    assert found is not None, f"no CSRF token on {url}"
    return found.group(1)


async def sign_in(session: aiohttp.ClientSession, base: str) -> str:
    csrf = await page_csrf(session, f"{base}/signin")
    async with session.post(f"{base}/signin", data={
        "csrf_token": csrf, "login": "coord", "password": PASSWORD,
    }, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
    return await page_csrf(session, f"{base}/board")


async def sign_in_cookies(base: str) -> tuple[str, str]:
    """The coordinator's session: the Cookie header and the CSRF token."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as client:
        csrf = await sign_in(client, base)
        cookies = client.cookie_jar.filter_cookies(yarl.URL(base))
        header = "; ".join(f"{key}={morsel.value}" for key, morsel in cookies.items())
    return header, csrf


async def prepare(url: str, data_dir: Path) -> tuple[str, int, str]:
    """A database of its own (a SQLite file, or a fresh PostgreSQL database), migrated
    and seeded; its URL, the topic's id and how to drop it ('' for SQLite)."""
    dropped = ""
    if not url:
        url = f"sqlite+aiosqlite:///{data_dir / 'hub.db'}"
    else:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        admin = Database(url, isolation_level="AUTOCOMMIT")
        async with admin.engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        dropped = name
        url = url.rsplit("/", 1)[0] + "/" + name
    db = database(url)
    await migrate.upgrade(db)
    topic_id = await seed(db, data_dir)
    await db.dispose()
    return url, topic_id, dropped


async def drop(admin_url: str, name: str) -> None:
    admin = Database(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", default="",
                        help="a PostgreSQL URL (a database is made and dropped); "
                        "default: SQLite in a temporary folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    use_cheap_hashing()

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        url, topic_id, dropped = asyncio.run(prepare(args.database, data_dir))
        env = {"HUB_DATA_DIR": str(data_dir), "HUB_DATABASE_URL": url,
               "HUB_EMBEDDED_WORKER": "false", "HUB_SECRET_KEY": "bench-secret-" + "x" * 40}
        hub = ceiling = on_uvloop = None
        try:
            ceiling, ceiling_url = pageload.start_ceiling(url)
            on_uvloop, uvloop_url = pageload.start_ceiling(url, loop="uvloop")
            hub, base = pageload.start_hub(env)
            cookie, csrf = asyncio.run(sign_in_cookies(base))
            topic_url = f"{base}/forum/topics/{topic_id}?page=1&size=50"
            with urllib.request.urlopen(urllib.request.Request(
                    topic_url, headers={"Cookie": cookie})) as response:
                page = response.read().decode()
            posts = page.count('class="card post')
            assert posts == 50, posts
            reply = urllib.parse.urlencode({
                "csrf_token": csrf, "body": "Спасибо, **учту**! Ответ NUMBER",
                "form_token": "NUMBER",
            }).replace("NUMBER", "{n}")
            hub_pids = pageload.process_tree(hub.pid)
            load = {"seconds": args.seconds, "connections": args.connections}
            figures = {
                "ceiling: one SQLAlchemy query": pageload.wrk(
                    ceiling_url, [ceiling.pid], **load),
                "the ceiling on uvloop": pageload.wrk(uvloop_url, [on_uvloop.pid], **load),
                "hub /healthz (SELECT 1)": pageload.wrk(f"{base}/healthz", hub_pids, **load),
                "hub /profile (signed in)": pageload.wrk(
                    f"{base}/profile", hub_pids, cookie=cookie, **load),
                "topic page, 50 posts": pageload.wrk(topic_url, hub_pids, cookie=cookie, **load),
                "board page, 20 announcements": pageload.wrk(
                    f"{base}/board", hub_pids, cookie=cookie, **load),
                "post a reply": pageload.wrk(
                    f"{base}/forum/topics/{topic_id}/reply", hub_pids, cookie=cookie,
                    post_body=reply, **load),
            }
        finally:
            for process in (hub, ceiling, on_uvloop):
                pageload.stop(process)
            if dropped:
                asyncio.run(drop(args.database, dropped))

    backend = "PostgreSQL" if dropped else "SQLite"
    pageload.report(
        f"bench/forum.py: wrk, {args.connections} connections, {args.seconds:.0f} s each, "
        f"{backend}, one server process each, {os.cpu_count()} CPUs",
        figures, "ceiling: one SQLAlchemy query", also="the ceiling on uvloop",
    )


if __name__ == "__main__":
    main()
