"""Benchmark of the board and the forum, side by side with aiohttp's bare hello-world.

    .venv/bin/python bench/forum.py [--seconds 5] [--concurrency 8] [--database URL]

Serves, in this one process, a bare aiohttp "Hello, world" and the whole hub (SQLite in a
temporary folder by default) on 127.0.0.1, then measures requests per second for: a topic
page of 50 posts, the board page (20 announcements), and posting a reply (sanitize +
moderation screening + write, one transaction each). Prints the figures and their ratios
to hello-world.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import yarl  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import text  # noqa: E402

from forum import board, topics  # noqa: E402
from forum.models import Audience  # noqa: E402
from hub.auth import accounts  # noqa: E402
from hub.auth.access import load_principal  # noqa: E402
from hub.auth.secrets import use_cheap_hashing  # noqa: E402
from hub.compose import database, web_app  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import Database  # noqa: E402
from hub.school import Role, create_person, create_school  # noqa: E402

PASSWORD = "bench password 123"


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def hello_app() -> web.Application:
    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="Hello, world")

    app = web.Application()
    app.router.add_get("/", hello)
    return app


async def seed(db: Database, data_dir: Path) -> int:
    """A school, a coordinator with an account, 20 announcements, a topic of 50 posts."""
    await db.create_all()
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


async def measure(
    name: str, seconds: float, concurrency: int, call: Callable[[int], Awaitable[int]]
) -> float:
    counter = itertools.count()
    done = 0
    failures = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failures
        while time.perf_counter() < deadline:
            status = await call(next(counter))
            if status >= 400:
                failures += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  ! {name}: {failures} failed requests", file=sys.stderr)
    return done / elapsed


async def sign_in(session: aiohttp.ClientSession, base: str) -> str:
    async with session.get(f"{base}/signin") as response:
        await response.read()
    csrf = session.cookie_jar.filter_cookies(yarl.URL(base)).get("hub_csrf")
    assert csrf is not None
    async with session.post(f"{base}/signin", data={
        "csrf_token": csrf.value, "login": "coord", "password": PASSWORD,
    }, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
    async with session.get(f"{base}/board") as response:
        await response.read()
    csrf = session.cookie_jar.filter_cookies(yarl.URL(base)).get("hub_csrf")
    assert csrf is not None
    return csrf.value


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database", default="", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    use_cheap_hashing()

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        settings = Settings(data_dir=data_dir, secret_key="bench-secret-" + "x" * 40,
                            database_url=args.database)
        schema = ""
        if settings.uses_sqlite:
            db = database(settings.database_url)
        else:  # a schema of its own, dropped at the end
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = Database(settings.database_url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            db = database(settings.database_url,
                          connect_args={"server_settings": {"search_path": schema}})
        topic_id = await seed(db, data_dir)
        hello_runner, hello = await start(hello_app())
        hub_runner, hub = await start(web_app(settings, db=db))
        connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as client:
            csrf = await sign_in(client, hub)

            async def get(url: str) -> int:
                async with client.get(url) as response:
                    await response.read()
                    return response.status

            async def post_reply(number: int) -> int:
                async with client.post(f"{hub}/forum/topics/{topic_id}/reply", data={
                    "csrf_token": csrf, "body": f"Спасибо, **учту**! Ответ {number}",
                }, allow_redirects=False) as response:
                    await response.read()
                    return 200 if response.status == 303 else response.status

            # Check the pages really are what is measured.
            async with client.get(f"{hub}/forum/topics/{topic_id}?page=1&size=50") as response:
                page = await response.text()
                assert response.status == 200 and page.count('class="card post') == 50, \
                    page.count('class="card post')

            results = {
                "hello-world": await measure("hello", args.seconds, args.concurrency,
                                             lambda _n: get(f"{hello}/")),
                "hub /healthz (one SELECT 1)": await measure(
                    "healthz", args.seconds, args.concurrency,
                    lambda _n: get(f"{hub}/healthz")),
                "hub /profile (signed in)": await measure(
                    "profile", args.seconds, args.concurrency,
                    lambda _n: get(f"{hub}/profile")),
                "topic page, 50 posts": await measure(
                    "topic", args.seconds, args.concurrency,
                    lambda _n: get(f"{hub}/forum/topics/{topic_id}?page=1&size=50")),
                "board page, 20 announcements": await measure(
                    "board", args.seconds, args.concurrency, lambda _n: get(f"{hub}/board")),
                "post a reply": await measure("reply", args.seconds, args.concurrency,
                                              post_reply),
            }
        await hub_runner.cleanup()
        await hello_runner.cleanup()
        await db.dispose()
        if schema:
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()

    base = results["hello-world"]
    backend = "SQLite" if settings.uses_sqlite else "PostgreSQL"
    print(f"bench/forum.py: {args.seconds:.0f} s each, {args.concurrency} concurrent clients, "
          f"{backend}, one process")
    print(f"{'':32} {'req/s':>10} {'vs hello-world':>16}")
    for name, rate in results.items():
        print(f"{name:32} {rate:10.0f} {rate / base:15.1%}")


if __name__ == "__main__":
    asyncio.run(main())
