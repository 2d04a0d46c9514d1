"""`hub worker` processes against a real SMTP server: one killed with SIGKILL mid-batch,
several side by side, Redis restarted mid-run. Every notification arrives, none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text

from hub.broker import RedisBroker, get_broker, set_broker
from hub.compose import database
from hub.db import Database
from hub.notify.models import Delivery, DeliveryStatus
from hub.school import Person
from tests.notify.conftest import post_grade, post_grades
from tests.notify.waiting import eventually
from tests.support.clock import real_time_env
from tests.support.processes import free_port
from tests.support.school import SchoolBuilder
from tests.support.services import need_postgres, need_redis
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / ".venv" / "bin" / "hub"


@dataclass
class Outside:
    """A database that another process can open by its URL alone."""

    db: Database
    url: str


@pytest.fixture(params=["sqlite", "postgresql"])
async def outside(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outside]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        db = database(url)
        await db.create_all()
        yield Outside(db, url)
        await db.dispose()
        return
    base = need_postgres()
    name = f"notify_{uuid.uuid4().hex[:10]}"
    admin = Database(base)
    async with admin.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    db = database(url)
    try:
        await db.create_all()
        yield Outside(db, url)
    finally:
        await db.dispose()
        async with admin.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def parents(db: Database, count: int) -> tuple[int, list[Person]]:
    school = await SchoolBuilder(db).start()
    children = []
    for n in range(count):
        child = await school.student("5А", last_name=f"Ученик{n}")
        await school.parent_of(child, email=f"parent{n}@example.test")
        children.append(child)
    return school.school_id, children


class WorkerProcess:
    def __init__(self, name: str, outside: Outside, sink: SmtpSink, tmp_path: Path,
                 redis_url: str | None = None) -> None:
        self.name = name
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env |= {
            "HUB_DATABASE_URL": outside.url, "HUB_DATA_DIR": str(tmp_path / "var"),
            "HUB_SECRET_KEY": "test-secret-key-" + "x" * 32, "HUB_SMTP_HOST": sink.host,
            "HUB_SMTP_PORT": str(sink.port), "HUB_PUBLIC_URL": "https://hub.example.test",
        }
        if redis_url:
            env["HUB_REDIS_URL"] = redis_url
        self.env = env
        self.log = tmp_path / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> WorkerProcess:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(HUB), "worker", "--id", self.name, "--lease", "3", "--poll", "0.5",
                "--batch", "20", "--concurrency", "1",
                env=self.env, stdout=log, stderr=log, cwd=str(self.log.parent),
            )
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                return await self.process.wait()
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


async def sent_count(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.SENT)) or 0


def delivered_ids(sink: SmtpSink) -> list[str]:
    return [m.header("X-Hub-Delivery") or "" for m in sink.messages]


async def test_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    outside: Outside, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    school_id, children = await parents(outside.db, 12)
    await post_grades(outside.db, school_id,
                      [(children[n % 12], 2 + n % 4, f"j-{n}") for n in range(120)])

    first = await WorkerProcess("first", outside, smtp_sink, tmp_path).start()
    await smtp_sink.wait_for(30, within=60)
    # Hold the next message's DATA answer and kill the worker while it waits for it.
    smtp_sink.slow(30, stage="data")
    seen = smtp_sink.data_commands
    assert await eventually(lambda: _value(smtp_sink.data_commands),
                            lambda n: n > seen, within=20)
    first.kill()
    assert await first.process.wait() == -signal.SIGKILL  # type: ignore[union-attr]
    smtp_sink.clear_faults()
    assert await sent_count(outside.db) < 120  # it died mid-batch

    others = [await WorkerProcess(name, outside, smtp_sink, tmp_path).start()
              for name in ("second", "third")]
    try:
        assert await eventually(lambda: sent_count(outside.db), lambda n: n == 120,
                                within=90), (tmp_path / "second.log").read_text()[-3000:]
    finally:
        for worker in others:
            assert await worker.stop() == 0
    ids = delivered_ids(smtp_sink)
    assert smtp_sink.duplicates() == {} and len(ids) == len(set(ids)) == 120
    async with outside.db.session() as session:
        taken_over = await session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.attempts > 1))
    assert taken_over and taken_over >= 1  # the dead worker's claims, taken after the lease


class PrivateRedis:
    """A redis-server of this test alone, so restarting it disturbs no one else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", stdout=asyncio.subprocess.DEVNULL, env=real_time_env(),
        )
        client = Redis.from_url(self.url)
        try:
            async with asyncio.timeout(10):
                while True:
                    try:
                        await client.ping()
                        return
                    except Exception:
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def _value(value: int) -> int:
    return value


async def test_redis_restarted_mid_run_delays_but_loses_nothing(
    outside: Outside, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    need_redis()
    if sys.platform != "linux":
        pytest.skip("needs redis-server")
    redis = PrivateRedis()
    await redis.start()
    previous = get_broker()
    client = Redis.from_url(redis.url)
    set_broker(RedisBroker(client))  # wake-ups from this "web process" go through Redis
    worker = await WorkerProcess("w", outside, smtp_sink, tmp_path, redis.url).start()
    try:
        school_id, children = await parents(outside.db, 5)
        for n in range(10):
            await post_grade(outside.db, school_id, children[n % 5], 5, f"before-{n}")
        await smtp_sink.wait_for(10, within=30)

        await redis.stop()  # Redis goes down mid-run
        for n in range(10):
            await post_grade(outside.db, school_id, children[n % 5], 4, f"during-{n}")
        await smtp_sink.wait_for(20, within=30)  # the worker polls meanwhile

        await redis.start()  # and comes back on the same port
        for n in range(10):
            await post_grade(outside.db, school_id, children[n % 5], 3, f"after-{n}")
        await smtp_sink.wait_for(30, within=30)
    finally:
        assert await worker.stop() == 0
        set_broker(previous)
        await client.aclose()
        await redis.stop()
    assert await sent_count(outside.db) == 30
    assert smtp_sink.duplicates() == {} and len(smtp_sink.messages) == 30
