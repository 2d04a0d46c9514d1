"""Running hub processes against a scenario's services: their environment, keeping N of
them running (one that dies is started again, as systemd would), waiting until every
delivery has settled, and one e-mail scenario from start to figures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis as RedisClient
from sqlalchemy import func, select

from bench.faults.report import Result, blame, count_email, sent_times
from bench.faults.school import post_grades, school_with_grades
from bench.faults.services import Postgres, Redis, free_port
from bench.faults.smtp import SmtpServer
from hub.broker import RedisBroker, get_broker, set_broker
from hub.db import Database
from hub.notify.models import Delivery, DeliveryStatus

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / ".venv" / "bin" / "hub"
SECRET = "bench-faults-secret-" + "x" * 32
SETTLED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DEAD,
           DeliveryStatus.CANCELLED)


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


@dataclass
class Context:
    folder: Path
    count: int
    backoff: float
    deadline: float
    postgres: Postgres | None = None


@dataclass
class Stage:
    """What a scenario's fault acts on while the workers run."""

    procs: Processes
    db: Database  # the school's: more grades may be posted
    postgres: Postgres | None
    redis: Redis | None


async def email_scenario(
    ctx: Context, name: str, *, faults: dict[str, float] | None = None,
    during: Callable[[Stage], Awaitable[None]] | None = None,
    sqlite: bool = False, serve: bool = False, redis: bool = False,
) -> Result:
    """`ctx.count` grades by e-mail through three `hub worker` processes (or one `hub
    serve`), with `faults` at the SMTP server and `during` acting meanwhile; with `redis`,
    the workers and this process (the web side, posting grades) share a Redis of the
    suite's own for their wake-ups."""
    folder = ctx.folder / "".join(c if c.isalnum() else "_" for c in name[:12])
    folder.mkdir(parents=True, exist_ok=True)
    smtp = await SmtpServer().start()
    own_redis = await Redis().start() if redis else None
    extra = {"HUB_REDIS_URL": own_redis.url} if own_redis is not None else {}
    previous_broker = get_broker()
    if sqlite:
        url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    else:
        assert ctx.postgres is not None
        url = await ctx.postgres.fresh(f"faults_{folder.name}_{random.randrange(10**6)}")
    db = await school_with_grades(url, ctx.count)
    if serve:
        env = hub_env(url, folder, smtp, HUB_EMBEDDED_WORKER="true", **extra)
        args = [[str(HUB), "serve", "--host", "127.0.0.1", "--port", str(free_port())]]
    else:
        env = hub_env(url, folder, smtp, **extra)
        args = workers(3, ctx.backoff)
    procs = await Processes(args, env, folder / "hub.log").start(
        "hub: serving on" if serve else "hub: worker")
    broker_client = None
    if own_redis is not None:
        broker_client = RedisClient.from_url(own_redis.url)
        set_broker(RedisBroker(broker_client))
    try:
        await smtp.faults(**(faults or {}))
        started = time.monotonic()
        await post_grades(db)
        if during is not None:
            await during(Stage(procs, db, ctx.postgres, own_redis))
        await db.dispose()
        done = await settled(url, deadline=started + ctx.deadline)
        drain = time.monotonic() - started
        await sent_times(url)
        await asyncio.sleep(1.0)  # a late 250 still on its way
        result = await count_email(Result(name), url, await smtp.accepted())
        result.drain = drain
        if not done:
            result.note = f"not drained in {ctx.deadline:.0f} s; {result.note}"
        if faults and "kill_pct" in faults:
            stats: dict[str, Any] = await smtp.command(cmd="stats")
            kills = stats["kills"]
            blamed, per_kill = blame(stats["copies"], kills)
            result.note = (f"{result.note}; {len(kills)} kills after 250, at most {per_kill} "
                           "repeated copies per kill; copies repeated: "
                           + ", ".join(f"{n} {why}" for why, n in blamed.items())).strip("; ")
        return result
    finally:
        set_broker(previous_broker)
        if broker_client is not None:
            await broker_client.aclose()
        await procs.stop()
        await smtp.stop()
        if own_redis is not None:
            await own_redis.stop()
