"""The fault suite: the delivery pipeline under the faults an operator meets, on loopback.

    .venv/bin/python -m bench.faults [--count 600] [--only NAME[,NAME...]] [--list]

Each scenario builds a fresh database with one consenting parent per student and one grade
per student (so `count` notifications by e-mail), runs real `hub worker` (or `hub serve`)
processes against a faulty SMTP server, injects its fault, waits until nothing is left to
deliver (bounded: --deadline seconds), and prints:

    created     deliveries made by the notifications
    delivered   distinct messages that reached the SMTP server (or the Bot API)
    duplicated  copies accepted more than once (same Message-ID); "counted" is how many
                repeats the hub itself recorded as possible duplicates
    lost        neither delivered nor shown to the school as undelivered (failed / dead),
                or marked sent without reaching the server
    dead        failed for good or dead: shown as undelivered in the delivery log
    drain       seconds from the first notification to the last delivery settled

Services of its own, started from Debian's binaries and stopped at the end: PostgreSQL
(initdb + pg_ctl into a temporary directory, a free port) for the scenarios that restart
or stop it; never the shared ones on 5432 / 6379. The SMTP server is an aiosmtpd server
in its own process that can refuse, drop, stall, and kill the sending worker right after
its 250. Telegram runs against tests/support/telegram_api.py. Workers retry after
`--backoff` seconds (5 here, 30 by default) so that a run ends in minutes; leases are the
default 30 s. Everything is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from hub import migrate
from hub.compose import database
from hub.db import Database
from hub.journal.inputs import GradeInput, StudentRef
from hub.journal.models import Source
from hub.journal.record import record_grades
from hub.notify.models import Delivery, DeliveryStatus, Notification
from hub.school import (
    ConsentPurpose,
    Role,
    add_guardianship,
    create_person,
    create_school,
    enrol,
    get_or_create_class,
    record_consent,
)

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / ".venv" / "bin" / "hub"
SECRET = "bench-faults-secret-" + "x" * 32
SETTLED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DEAD,
           DeliveryStatus.CANCELLED)

# ---------------------------------------------------------------- the faulty SMTP server

SMTP_SCRIPT = r'''
import asyncio, email, hashlib, json, os, random, signal, sys, time
from email import policy
from aiosmtpd.smtp import SMTP

faults = {}
accepted = []  # message ids, every copy
kills = [0]
rng = random.Random(7)

def pid_of_peer(server_port, client_port):
    """The pid holding the client end of this connection (loopback, /proc)."""
    wanted = None
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        parts = line.split()
        local, remote, inode = parts[1], parts[2], parts[9]
        if int(local.split(":")[1], 16) == client_port and \
                int(remote.split(":")[1], 16) == server_port:
            wanted = f"socket:[{inode}]"
    if wanted is None:
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                    return int(pid)
        except OSError:
            continue
    return None

def chance(name):
    return rng.random() * 100 < faults.get(name, 0)

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        now = time.monotonic()
        if now < faults.get("refuse_until", 0):
            if rng.random() < 0.5:
                server.transport.close()
                return "421 4.3.2 Service not available, closing transmission channel"
            return "451 4.3.0 Try again later"
        if int(hashlib.md5(address.encode()).hexdigest(), 16) % 100 < faults.get("reject_pct", 0):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        if chance("stall_pct"):
            accepted.append(str(message["Message-ID"]))  # kept, though the answer is late
            await asyncio.sleep(faults.get("stall_seconds", 45))
            return "250 2.0.0 Ok (late)"
        if chance("drop_pct"):
            accepted.append(str(message["Message-ID"]))  # kept, but the client never hears
            server.transport.abort()
            return "451 gone"
        accepted.append(str(message["Message-ID"]))
        if chance("kill_pct"):
            peer = server.transport.get_extra_info("peername")
            port = server.transport.get_extra_info("sockname")[1]
            def kill():
                pid = pid_of_peer(port, peer[1])
                if pid:
                    kills[0] += 1
                    os.kill(pid, signal.SIGKILL)
            asyncio.get_running_loop().call_later(0.002, kill)
        return "250 2.0.0 Ok: queued"

async def main():
    loop = asyncio.get_running_loop()
    handler = Handler()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "faults":
            faults.clear()
            faults.update(command["faults"])
            if "refuse_seconds" in faults:
                faults["refuse_until"] = time.monotonic() + faults["refuse_seconds"]
        print(json.dumps({"accepted": accepted, "kills": kills[0]}), flush=True)

asyncio.run(main())
'''


class SmtpServer:
    """The faulty SMTP server in its own process, driven over its stdin."""

    async def start(self) -> SmtpServer:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SMTP_SCRIPT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.port = int((await self.process.stdout.readline()).decode())
        return self

    async def command(self, **command: object) -> dict[str, object]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def faults(self, **faults: float) -> None:
        await self.command(cmd="faults", faults=faults)

    async def accepted(self) -> list[str]:
        return list((await self.command(cmd="stats"))["accepted"])  # type: ignore[arg-type]

    async def stop(self) -> None:
        self.process.terminate()
        await self.process.wait()


# ---------------------------------------------------------------- PostgreSQL of our own

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Postgres:
    """A PostgreSQL cluster in a temporary directory, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not versions:
            raise SystemExit("PostgreSQL binaries not found under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()

    def _run(self, *args: str) -> None:
        user = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        import subprocess

        subprocess.run([*user, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)

    def init(self) -> Postgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "hub",
                  "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                  str(self.folder / "log"), "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                  "-c max_connections=200 -c fsync=off", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, name: str = "postgres") -> str:
        return f"postgresql+asyncpg://hub@127.0.0.1:{self.port}/{name}"

    async def fresh(self, name: str) -> str:
        from sqlalchemy import text

        admin = Database(self.url())
        async with admin.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        return self.url(name)


# ---------------------------------------------------------------- the school and its grades

async def school_with_grades(url: str, count: int, *, email: bool = True) -> Database:
    """A migrated database, `count` students each with a consenting parent, and one grade
    each posted through the journal's record routine (as the API does)."""
    db = database(url)
    await migrate.upgrade(db)
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", "school1")
        school_class = await get_or_create_class(session, school.id, "5А")
        students = []
        for n in range(count):
            child = await create_person(session, school.id, last_name=f"Ученик{n}",
                                        first_name="Иван", roles=[Role.STUDENT])
            await enrol(session, child, school_class)
            parent = await create_person(
                session, school.id, last_name=f"Родитель{n}", first_name="Анна",
                email=f"parent{n}@example.test" if email else None, roles=[Role.PARENT])
            await add_guardianship(session, parent, child)
            await record_consent(session, parent, ConsentPurpose.NOTIFICATIONS)
            students.append(child.id)
    db.school_id = school.id  # type: ignore[attr-defined]
    db.students = students  # type: ignore[attr-defined]
    return db


async def post_grades(db: Database, *, value: int = 5, prefix: str = "g") -> None:
    day = dt.date.today() - dt.timedelta(days=1)
    students: list[int] = db.students  # type: ignore[attr-defined]
    for start in range(0, len(students), 500):
        async with db.transaction() as session:
            await record_grades(session, db.school_id, [  # type: ignore[attr-defined]
                GradeInput(student=StudentRef(person_id=s), subject="Математика",
                           lesson_date=day, value=value, source_id=f"{prefix}-{s}")
                for s in students[start:start + 500]
            ], by=None, source=Source.CSV)


# ---------------------------------------------------------------- hub processes

def hub_env(url: str, folder: Path, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return env | {
        "HUB_DATABASE_URL": url, "HUB_DATA_DIR": str(folder / "var"), "HUB_SECRET_KEY": SECRET,
        "HUB_SMTP_HOST": "127.0.0.1", "HUB_SMTP_PORT": str(smtp.port),
        "HUB_PUBLIC_URL": "https://hub.example.test", "HUB_LOG_LEVEL": "WARNING", **extra,
    }


class Processes:
    """N hub processes kept running: one that dies is started again (as systemd would)."""

    def __init__(self, args: list[list[str]], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.running: list[asyncio.subprocess.Process | None] = [None] * len(args)
        self.starts = 0
        self._keeper: asyncio.Task[None] | None = None

    async def _start(self, index: int) -> None:
        with self.log.open("ab") as log:
            self.running[index] = await asyncio.create_subprocess_exec(
                *self.args[index], env=self.env, stdout=log, stderr=log)
        self.starts += 1

    async def start(self, ready: str, *, within: float = 120.0) -> Processes:
        """Start them all and wait until each has printed `ready` (imports take seconds
        on a busy machine: the drain time should not count them)."""
        for index in range(len(self.args)):
            await self._start(index)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.log.exists() and self.log.read_text(errors="replace").count(ready) >= len(
                    self.args):
                break
            await asyncio.sleep(0.2)
        self._keeper = asyncio.create_task(self._keep())
        return self

    async def _keep(self) -> None:
        while True:
            for index, process in enumerate(self.running):
                if process is None or process.returncode is not None:
                    await self._start(index)
            await asyncio.sleep(0.3)

    def kill_one(self) -> None:
        alive = [p for p in self.running if p is not None and p.returncode is None]
        if alive:
            random.choice(alive).send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        for process in self.running:
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            if process is not None:
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def workers(n: int, backoff: float) -> list[list[str]]:
    return [[str(HUB), "worker", "--id", f"w{i}", "--poll", "0.5", "--backoff", str(backoff)]
            for i in range(n)]


# ---------------------------------------------------------------- counting

@dataclass
class Result:
    name: str
    created: int = 0
    delivered: int = 0
    duplicated: int = 0
    counted: int = 0
    lost: int = 0
    dead: int = 0
    drain: float = 0.0
    note: str = ""


async def settled(url: str, *, deadline: float) -> bool:
    """Wait until every delivery is sent, failed, dead or cancelled (or the deadline)."""
    while time.monotonic() < deadline:
        db = Database(url)
        try:
            async with db.session() as session:
                waiting = await session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.status.not_in(SETTLED)))
            if waiting == 0:
                return True
        except Exception:  # the database may be down in this scenario: ask again
            pass
        finally:
            await db.dispose()
        await asyncio.sleep(0.5)
    return False


async def sent_times(url: str) -> None:
    if not os.environ.get("HUB_FAULTS_KEEP"):
        return
    db = Database(url)
    async with db.session() as session:
        rows = (await session.execute(select(Delivery.created_at, Delivery.sent_at))).all()
    await db.dispose()
    lags = sorted((s - c).total_seconds() for c, s in rows if s is not None)
    if lags:
        print(f"    sent after: min {lags[0]:.1f} s, median {lags[len(lags) // 2]:.1f} s, "
              f"max {lags[-1]:.1f} s")


def delivery_of(message_id: str) -> int | None:
    """The delivery id in a hub Message-ID (<hub.{id}.{tag}@domain>)."""
    try:
        return int(message_id.strip("<>").split(".")[1])
    except (IndexError, ValueError):
        return None


async def count_email(result: Result, url: str, accepted: list[str]) -> Result:
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (await session.execute(
                select(Delivery.id, Delivery.status, Delivery.possible_duplicates))).all()
    finally:
        await db.dispose()
    arrived = {delivery_of(m) for m in accepted}
    result.created = len(rows)
    result.delivered = len(arrived & {r.id for r in rows})
    result.duplicated = len(accepted) - len(set(accepted))
    result.counted = sum(r.possible_duplicates for r in rows)
    copies = max(Counter(accepted).values(), default=0)
    if copies > 1:
        result.note = f"at most {copies} copies of one message"
    result.dead = sum(r.status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD) for r in rows)
    result.lost = sum(
        (r.id not in arrived and r.status not in (DeliveryStatus.FAILED, DeliveryStatus.DEAD))
        for r in rows)
    return result


# ---------------------------------------------------------------- scenarios

@dataclass
class Context:
    folder: Path
    count: int
    backoff: float
    deadline: float
    postgres: Postgres | None = None


async def email_scenario(
    ctx: Context, name: str, *, faults: dict[str, float] | None = None,
    during: Callable[[Processes, Postgres | None], Awaitable[None]] | None = None,
    sqlite: bool = False, serve: bool = False,
) -> Result:
    folder = ctx.folder / "".join(c if c.isalnum() else "_" for c in name[:12])
    folder.mkdir(parents=True, exist_ok=True)
    smtp = await SmtpServer().start()
    if sqlite:
        url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    else:
        assert ctx.postgres is not None
        url = await ctx.postgres.fresh(f"faults_{folder.name}_{random.randrange(10**6)}")
    db = await school_with_grades(url, ctx.count)
    if serve:
        env = hub_env(url, folder, smtp, HUB_EMBEDDED_WORKER="true")
        args = [[str(HUB), "serve", "--host", "127.0.0.1", "--port", str(free_port())]]
    else:
        env = hub_env(url, folder, smtp)
        args = workers(3, ctx.backoff)
    procs = await Processes(args, env, folder / "hub.log").start(
        "hub: serving on" if serve else "hub: worker")
    try:
        await smtp.faults(**(faults or {}))
        started = time.monotonic()
        await post_grades(db)
        await db.dispose()
        if during is not None:
            await during(procs, ctx.postgres)
        done = await settled(url, deadline=started + ctx.deadline)
        drain = time.monotonic() - started
        await sent_times(url)
        await asyncio.sleep(1.0)  # a late 250 still on its way
        result = await count_email(Result(name), url, await smtp.accepted())
        result.drain = drain
        if not done:
            result.note = f"not drained in {ctx.deadline:.0f} s; {result.note}"
        if faults and "kill_pct" in faults:
            stats = await smtp.command(cmd="stats")
            result.note = f"{result.note}; {stats['kills']} kills after 250".strip("; ")
        return result
    finally:
        await procs.stop()
        await smtp.stop()


async def no_faults(ctx: Context) -> Result:
    return await email_scenario(ctx, "no faults")


async def killed_every_1_3_s(ctx: Context) -> Result:
    async def kill(procs: Processes, _pg: Postgres | None) -> None:
        until = time.monotonic() + 20
        kills = 0
        while time.monotonic() < until and kills < 20:
            await asyncio.sleep(random.uniform(1, 3))
            procs.kill_one()
            kills += 1

    return await email_scenario(ctx, "workers SIGKILLed every 1-3 s (20 s)", during=kill)


async def killed_after_250(ctx: Context) -> Result:
    return await email_scenario(ctx, "worker killed right after the server's 250 (2%)",
                                faults={"kill_pct": 2})


async def smtp_refusals(ctx: Context) -> Result:
    return await email_scenario(
        ctx, "SMTP 421/451 for 20 s, 550 for 10%, 1% of DATA kept then dropped",
        faults={"refuse_seconds": 20, "reject_pct": 10, "drop_pct": 1})


async def smtp_stalls(ctx: Context) -> Result:
    return await email_scenario(ctx, "0.4% of DATA stalled 45 s (SMTP timeout 30 s)",
                                faults={"stall_pct": 0.4, "stall_seconds": 45})


async def postgres_restarted(ctx: Context) -> Result:
    async def restart(_procs: Processes, pg: Postgres | None) -> None:
        assert pg is not None
        await asyncio.sleep(1.0)
        await asyncio.to_thread(pg.restart)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(20)
        await asyncio.to_thread(pg.start)

    return await email_scenario(ctx, "PostgreSQL restarted, then down 20 s", during=restart)


async def sqlite_serve_killed(ctx: Context) -> Result:
    async def kill(procs: Processes, _pg: Postgres | None) -> None:
        for _ in range(2):
            await asyncio.sleep(1.5)
            procs.kill_one()

    return await email_scenario(ctx, "SQLite, hub serve SIGKILLed twice", during=kill,
                                sqlite=True, serve=True)


async def telegram_blocked(ctx: Context) -> Result:
    """100 parents on Telegram for grades, 40 of whom blocked the bot; half have an e-mail
    address too. Three grades each. In-process worker, the fake Bot API, the SMTP server."""
    from bots.channel import TelegramChannel
    from hub.config import Settings
    from hub.notify.addresses import set_address
    from hub.notify.channel import ChannelName, NotificationKind
    from hub.notify.preferences import Mode, set_mode
    from hub.notify.worker import Worker, WorkerConfig
    from hub.ratelimit import InProcessLimiter
    from hub.school import Person
    from mail.channel import SmtpChannel
    from tests.support.telegram_api import FakeBotAPI

    name = "Telegram: chat blocked (403), parents on Telegram only"
    folder = ctx.folder / "telegram"
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    parents = 100
    db = await school_with_grades(url, parents)
    smtp = await SmtpServer().start()
    async with db.transaction() as session:
        rows = list(await session.scalars(
            select(Person).where(Person.last_name.startswith("Родитель")).order_by(Person.id)))
        for n, parent in enumerate(rows):
            await set_address(session, parent.id, ChannelName.TELEGRAM, str(5000 + n))
            await set_mode(session, parent.id, NotificationKind.GRADES, ChannelName.EMAIL,
                           Mode.OFF)
            if n % 2:  # Telegram only: no e-mail address at all
                parent.email = None
    settings = Settings(data_dir=folder / "var", secret_key=SECRET, smtp_host="127.0.0.1",
                        smtp_port=smtp.port, public_url="https://hub.example.test")
    async with FakeBotAPI(token="123456:FAULTS") as api:
        for n in range(parents):
            api.chat(5000 + n)
            if n % 5 < 2:
                api.block(5000 + n)
        telegram = TelegramChannel(api.bot(), db, InProcessLimiter())
        email = SmtpChannel(settings, pool_size=4)
        worker = Worker(settings, db, {ChannelName.EMAIL: email, ChannelName.TELEGRAM: telegram},
                        config=WorkerConfig(poll_interval=0.2, backoff_base=ctx.backoff))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        started = time.monotonic()
        try:
            for round_ in range(3):
                await post_grades(db, value=3 + round_, prefix=f"t{round_}")
            done = await settled(url, deadline=started + ctx.deadline)
            drain = time.monotonic() - started
        finally:
            stop.set()
            await task
            await worker.aclose()
        telegram_messages = sum(len(api.messages(5000 + n)) for n in range(parents))
    accepted = await smtp.accepted()
    await smtp.stop()
    result = Result(name, drain=drain, note="" if done else "not drained")
    async with db.session() as session:
        notes = (await session.execute(select(Notification.id, Notification.person_id))).all()
        deliveries = (await session.execute(
            select(Delivery.id, Delivery.notification_id, Delivery.channel, Delivery.status,
                   Delivery.possible_duplicates))).all()
        from hub.notify.addresses import addresses_of
        reachable = await addresses_of(session, sorted({p for _, p in notes}))
        emails = {p for p, a in reachable.items() if ChannelName.EMAIL in a}
    await db.dispose()
    arrived = {delivery_of(m) for m in accepted}
    reached: set[int] = set()
    shown: set[int] = set()
    for d in deliveries:
        if d.status is DeliveryStatus.SENT and (d.channel is not ChannelName.EMAIL
                                                or d.id in arrived):
            reached.add(d.notification_id)
        if d.status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD):
            shown.add(d.notification_id)
    result.created = len(notes)
    result.delivered = len(reached)
    result.duplicated = len(accepted) - len(set(accepted))
    result.counted = sum(d.possible_duplicates for d in deliveries)
    # A notification to a person with an e-mail address must reach them; one to a person
    # on Telegram only must at least be shown as undelivered (it stays in the app).
    result.lost = sum(1 for note_id, person in notes if note_id not in reached and (
        person in emails or note_id not in shown))
    result.dead = sum(1 for note_id, _ in notes if note_id not in reached)
    result.note = (result.note + f" {telegram_messages} Telegram messages").strip()
    return result


async def concurrent_corrections(ctx: Context) -> Result:
    """5 API clients send the same correction of 200 marks at once."""
    from aiohttp import ClientSession, web

    from hub.auth.access import TokenScope
    from hub.auth.tokens import issue_token
    from hub.compose import web_app
    from hub.config import Settings

    assert ctx.postgres is not None
    marks = 200
    url = await ctx.postgres.fresh(f"faults_corrections_{random.randrange(10**6)}")
    db = await school_with_grades(url, marks)
    await post_grades(db, value=3)
    async with db.transaction() as session:
        token = await issue_token(session, db.school_id, "bench",  # type: ignore[attr-defined]
                                  [TokenScope.JOURNAL])
    settings = Settings(data_dir=ctx.folder / "var", secret_key=SECRET, embedded_worker=False)
    app = web_app(settings, db=db)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    items = [{"source_id": f"g-{s}", "student_id": s, "date": day, "subject": "Математика",
              "value": 4} for s in db.students]  # type: ignore[attr-defined]
    started = time.monotonic()
    try:
        async with ClientSession(headers={"Authorization": f"Bearer {token.secret}"}) as client:
            async def send() -> int:
                async with client.post(f"http://127.0.0.1:{port}/api/v1/grades",
                                       json={"items": items}) as answer:
                    return answer.status

            statuses = await asyncio.gather(*(send() for _ in range(5)))
    finally:
        await runner.cleanup()
    async with db.session() as session:
        notices = await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.title.startswith("Исправлена"))) or 0
        all_notes = await session.scalar(select(func.count()).select_from(Notification)) or 0
    await db.dispose()
    corrections = all_notes - marks  # the first notices were the original grades
    return Result("5 clients send the same correction of 200 marks at once",
                  created=marks, delivered=corrections, duplicated=max(0, corrections - marks),
                  drain=time.monotonic() - started,
                  note=f"answers {sorted(statuses)}; correction notices {corrections}"
                       f" ({notices} titled as corrections)")


SCENARIOS: dict[str, Callable[[Context], Awaitable[Result]]] = {
    "none": no_faults,
    "kills": killed_every_1_3_s,
    "smtp": smtp_refusals,
    "stalls": smtp_stalls,
    "after250": killed_after_250,
    "postgres": postgres_restarted,
    "sqlite": sqlite_serve_killed,
    "telegram": telegram_blocked,
    "corrections": concurrent_corrections,
}


def print_table(results: list[Result]) -> None:
    print()
    print(f"{'scenario':<66} {'created':>7} {'deliv.':>6} {'dup.':>5} {'counted':>7} "
          f"{'lost':>5} {'dead':>5} {'drain s':>8}")
    for r in results:
        print(f"{r.name[:66]:<66} {r.created:>7} {r.delivered:>6} {r.duplicated:>5} "
              f"{r.counted:>7} {r.lost:>5} {r.dead:>5} {r.drain:>8.1f}")
        if r.note:
            print(f"    {r.note}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=600, help="notifications per scenario")
    parser.add_argument("--only", help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--backoff", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=240.0,
                        help="seconds a scenario may take to drain")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(SCENARIOS))
        return
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    random.seed(11)
    folder = Path(tempfile.mkdtemp(prefix="hub-faults-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        os.chmod(folder, 0o777)
    ctx = Context(folder, args.count, args.backoff, args.deadline)
    needs_pg = any(c not in ("sqlite", "telegram") for c in chosen)
    results = []
    try:
        if needs_pg:
            ctx.postgres = Postgres(folder / "pg").init()
            ctx.postgres.start()
        for key in chosen:
            print(f"running {key} ...", flush=True)
            try:
                results.append(await SCENARIOS[key](ctx))
            except Exception as exc:  # one scenario's failure is reported, the rest run
                results.append(Result(key, note=f"scenario failed: {exc!r}"))
            print_table(results[-1:])
    finally:
        if ctx.postgres is not None:
            with contextlib.suppress(Exception):
                ctx.postgres.stop()
        if os.environ.get("HUB_FAULTS_KEEP"):
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print_table(results)


if __name__ == "__main__":
    asyncio.run(main())
