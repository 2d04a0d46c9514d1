"""Benchmark of the notification pipeline: three rates and their ratio, in one run.

    .venv/bin/python bench/notify.py [--database-url URL] [--redis-url URL]
                                     [--count 10000] [--workers 1]

1. outbox: 10,000 grades POSTed to /api/v1/grades (batches of 1,000, an API token) become
   10,000 notifications with their e-mail deliveries; notifications per second.
2. workers: `hub worker` processes send them to an aiosmtpd sink (a separate process);
   messages per second between the first and the last arrival at the sink.
3. ceiling: aiosmtplib sends the same 10,000 pre-rendered messages straight to the same
   sink over one connection; messages per second. Half of them go just before the workers
   start and half just after they finish, so that a machine that gets busier or quieter
   during the run (other processes on it) weighs on both figures alike.
The figure to quote is workers / ceiling. Both lines give the CPU per message of the sender
(the workers; the ceiling's client) and of the sink: the sink's Python is the slowest part,
and on a small machine every millisecond a sender spends is taken from it.

SQLite (default): a fresh file in a temporary folder. PostgreSQL: a fresh database is
created next to the one in --database-url and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, web  # noqa: E402
from aiosmtplib import SMTP  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from hub import clock  # noqa: E402
from hub.auth.access import TokenScope  # noqa: E402
from hub.auth.tokens import issue_token  # noqa: E402
from hub.broker import InProcessBroker, RedisBroker, set_broker  # noqa: E402
from hub.compose import database  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.db import Database  # noqa: E402
from hub.notify.envelopes import load_envelopes  # noqa: E402
from hub.notify.models import Delivery, DeliveryStatus  # noqa: E402
from hub.school import (  # noqa: E402
    ConsentPurpose,
    Role,
    add_guardianship,
    create_person,
    create_school,
    enrol,
    get_or_create_class,
    record_consent,
)
from mail.render import render_message, sender_address, wire_bytes  # noqa: E402

BATCH = 1000
SUBJECTS = ("Математика", "Русский язык", "Литература", "История", "Физика", "Биология",
            "География", "Английский язык", "Информатика", "Химия")

SINK_SCRIPT = """
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
from tests.support.smtp import SmtpSink

async def main():
    sink = await SmtpSink().start()
    print(sink.port, flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        times = [m.received_at for m in sink.messages]
        ids = [m.message_id for m in sink.messages]
        print(json.dumps({"count": len(times), "first": min(times, default=0),
                          "last": max(times, default=0),
                          "duplicates": len(ids) - len(set(ids))}), flush=True)
        sink.clear()

asyncio.run(main())
"""


class Sink:
    """The aiosmtpd sink in its own process, so that neither client shares its loop."""

    async def start(self) -> Sink:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SINK_SCRIPT, str(ROOT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.port = int((await self.process.stdout.readline()).decode())
        return self

    async def stats(self) -> dict[str, float]:
        """Arrivals since the last call: count, first and last (sink clock), duplicates."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"stats\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def stop(self) -> None:
        self.process.terminate()
        await self.process.wait()


async def fresh_database(url: str) -> tuple[str, Database, str | None]:
    """(url, database, name to drop) with every table created."""
    if url.startswith("sqlite"):
        db = database(url)
        await db.create_all()
        return url, db, None
    name = f"bench_notify_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    async with admin.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    fresh = url.rsplit("/", 1)[0] + "/" + name
    db = database(fresh)
    await db.create_all()
    return fresh, db, name


async def drop_database(url: str, name: str) -> None:
    admin = Database(url)
    async with admin.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


async def build_school(db: Database, students: int) -> tuple[int, list[int], str]:
    """A school with `students` students in 5А, one consenting parent each; the journal's
    API token."""
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", "school1")
        school_class = await get_or_create_class(session, school.id, "5А")
        ids = []
        for n in range(students):
            child = await create_person(session, school.id, last_name=f"Ученик{n}",
                                        first_name="Иван", roles=[Role.STUDENT])
            await enrol(session, child, school_class)
            parent = await create_person(session, school.id, last_name=f"Родитель{n}",
                                         first_name="Анна", email=f"parent{n}@example.test",
                                         roles=[Role.PARENT])
            await add_guardianship(session, parent, child)
            await record_consent(session, parent, ConsentPurpose.NOTIFICATIONS)
            ids.append(child.id)
        token = await issue_token(session, school.id, "bench", [TokenScope.JOURNAL])
    return school.id, ids, token.secret


async def post_grades(settings: Settings, db: Database, students: list[int], count: int,
                      token: str) -> float:
    """POST `count` grades through the API (batches of 1,000); seconds taken."""
    from hub.compose import web_app

    app = web_app(settings, db=db)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    day = (clock.now().astimezone(settings.tz) - dt.timedelta(days=1)).date().isoformat()
    items = [
        {"source_id": f"bench-{n}", "student_id": students[n % len(students)],
         "date": day, "subject": SUBJECTS[(n // len(students)) % len(SUBJECTS)],
         "value": 2 + n % 4}
        for n in range(count)
    ]
    try:
        async with ClientSession(headers={"Authorization": f"Bearer {token}"}) as client:
            started = time.perf_counter()
            for start in range(0, count, BATCH):
                async with client.post(f"http://127.0.0.1:{port}/api/v1/grades",
                                       json={"items": items[start:start + BATCH]}) as answer:
                    if answer.status != 200:
                        raise SystemExit(f"API answered {answer.status}: {await answer.text()}")
            return time.perf_counter() - started
    finally:
        await runner.cleanup()


async def sent(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.SENT)) or 0


async def run_workers(url: str, redis_url: str | None, sink: Sink, count: int, workers: int,
                      data_dir: Path, db: Database) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {"HUB_DATABASE_URL": url, "HUB_DATA_DIR": str(data_dir),
            "HUB_SECRET_KEY": "bench-secret-" + "x" * 32, "HUB_SMTP_HOST": "127.0.0.1",
            "HUB_SMTP_PORT": str(sink.port), "HUB_LOG_LEVEL": "WARNING",
            "HUB_PUBLIC_URL": "https://hub.example.test"}
    if redis_url:
        env["HUB_REDIS_URL"] = redis_url
    processes = [
        await asyncio.create_subprocess_exec(
            str(ROOT / ".venv" / "bin" / "hub"), "worker", "--id", f"bench-{n}",
            env=env, stdout=asyncio.subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    cpu_from, sent_from, sink_from = None, 0, 0.0
    try:
        while (done := await sent(db)) < count:
            if any(p.returncode is not None for p in processes):
                raise SystemExit("a worker exited")
            if cpu_from is None and done:  # started: their imports are behind them
                cpu_from, sent_from = cpu_seconds(processes), done
                sink_from = cpu_seconds([sink.process])
            await asyncio.sleep(0.25)
        cpu_to, sink_to = cpu_seconds(processes), cpu_seconds([sink.process])
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
    stats = await sink.stats()
    if cpu_from is not None and count > sent_from:
        stats["cpu_ms"] = (cpu_to - cpu_from) * 1000 / (count - sent_from)
        stats["sink_cpu_ms"] = (sink_to - sink_from) * 1000 / (count - sent_from)
    return stats


def cpu_seconds(processes: list[asyncio.subprocess.Process]) -> float:
    """The CPU time (user + system) the processes have used so far (Linux /proc)."""
    ticks = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def prerendered(settings: Settings, db: Database) -> list[tuple[str, bytes]]:
    """Every delivery's message, rendered: (recipient, wire bytes)."""
    async with db.session() as session:
        ids = list(await session.scalars(select(Delivery.id).order_by(Delivery.id)))
        loaded = await load_envelopes(session, ids, public_url=settings.public_url)
    messages = []
    for _, envelope in loaded:
        assert envelope is not None
        message = render_message(envelope, settings)
        messages.append((message["To"].addresses[0].addr_spec, wire_bytes(message)))
    return messages


async def ceiling(settings: Settings, sink: Sink,
                  messages: list[tuple[str, bytes]]) -> dict[str, float]:
    """Send pre-rendered messages over one connection: messages sent, seconds, the
    client's and the sink's CPU per message."""
    smtp = SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False)
    await smtp.connect()
    sender = sender_address(settings)
    started, cpu = time.perf_counter(), time.process_time()
    sink_from = cpu_seconds([sink.process])
    for recipient, data in messages:
        await smtp.sendmail(sender, [recipient], data)
    elapsed = time.perf_counter() - started
    per_message = 1000 / max(1, len(messages))
    figures = {"count": len(messages), "seconds": elapsed,
               "cpu_ms": (time.process_time() - cpu) * per_message,
               "sink_cpu_ms": (cpu_seconds([sink.process]) - sink_from) * per_message}
    await smtp.quit()
    figures["arrived"] = (await sink.stats())["count"]
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    url, db, drop = await fresh_database(url)
    settings = Settings(database_url=url, data_dir=folder, secret_key="bench-secret-" + "x" * 32,
                        embedded_worker=False, smtp_host="127.0.0.1",
                        public_url="https://hub.example.test", redis_url=args.redis_url)
    if args.redis_url:
        from redis.asyncio import Redis

        set_broker(RedisBroker(Redis.from_url(args.redis_url)))
    else:
        set_broker(InProcessBroker())
    sink = await Sink().start()
    settings.smtp_port = sink.port
    backend = "PostgreSQL" if drop else "SQLite"
    print(f"backend: {backend}{' + Redis' if args.redis_url else ''}; "
          f"{args.count} grades, {args.students} students, {args.workers} worker(s)")
    try:
        _, students, token = await build_school(db, args.students)
        seconds = await post_grades(settings, db, students, args.count, token)
        async with db.session() as session:
            queued = await session.scalar(select(func.count()).select_from(Delivery)) or 0
        outbox_rate = queued / seconds
        print(f"outbox:   {queued} notifications in {seconds:.2f} s = {outbox_rate:,.0f} /s")

        messages = await prerendered(settings, db)
        before = await ceiling(settings, sink, messages[:len(messages) // 2])
        stats = await run_workers(url, args.redis_url, sink, queued, args.workers,
                                  folder, db)
        span = stats["last"] - stats["first"]
        worker_rate = (stats["count"] - 1) / span if span > 0 else 0.0
        print(f"workers:  {int(stats['count'])} messages at the sink in {span:.2f} s = "
              f"{worker_rate:,.0f} /s (duplicates: {int(stats['duplicates'])}); CPU per "
              f"message: worker {stats.get('cpu_ms', 0):.2f} ms, "
              f"sink {stats.get('sink_cpu_ms', 0):.2f} ms")

        after = await ceiling(settings, sink, messages[len(messages) // 2:])
        halves = (before, after)
        ceiling_rate = sum(h["count"] for h in halves) / sum(h["seconds"] for h in halves)
        print(f"ceiling:  {int(sum(h['arrived'] for h in halves))} pre-rendered messages over "
              f"one connection in {sum(h['seconds'] for h in halves):.2f} s = "
              f"{ceiling_rate:,.0f} /s (before the workers "
              f"{before['count'] / before['seconds']:,.0f} /s, after "
              f"{after['count'] / after['seconds']:,.0f} /s); CPU per message: client "
              f"{sum(h['cpu_ms'] for h in halves) / 2:.2f} ms, "
              f"sink {sum(h['sink_cpu_ms'] for h in halves) / 2:.2f} ms")
        print(f"ratio workers / ceiling: {worker_rate / ceiling_rate:.2f}")
    finally:
        await sink.stop()
        await db.dispose()
        if drop:
            await drop_database(args.database_url, drop)


if __name__ == "__main__":
    asyncio.run(main())
