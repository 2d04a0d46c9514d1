"""Telegram burst: 3,000 notifications to 1,000 chats through the delivery pipeline and two
workers, against the test Bot API server enforcing 30 messages/s per bot and 1/s per chat.

    .venv/bin/python bench/telegram.py                      # in-process token buckets
    .venv/bin/python bench/telegram.py --redis-url redis://127.0.0.1:6379/0   # Redis buckets
    .venv/bin/python bench/telegram.py --database-url postgresql+asyncpg://postgres@127.0.0.1/test

The deliveries are real Delivery rows claimed by two hub.notify.worker.Worker loops (two
tasks in this process, each with its own TelegramChannel and its own aiogram Bot; they share
the token buckets: this process's, or Redis's with --redis-url). Prints the sustained send
rate as a fraction of 30/s, the number of 429 answers (the goal is 0) and the time until
the last message arrived. It takes at least 100 s by nature (3,000 / 30 per second).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots.channel import TelegramChannel
from hub import clock
from hub.compose import database
from hub.config import Settings
from hub.db import Database
from hub.notify.addresses import ContactAddress
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus, Notification
from hub.notify.worker import Worker, WorkerConfig
from hub.school import Person, create_school
from tests.support.telegram_api import FakeBotAPI, RateLimit

TOKEN = "123456:BENCH"
FIRST_CHAT = 500_000


async def prepare(db: Database, chats: int, per_chat: int, adjacent: bool) -> None:
    await db.create_all()
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", f"bench-{uuid.uuid4().hex[:6]}")
        first = (await session.scalar(select(func.max(Person.id)))) or 0
        await session.execute(insert(Person), [
            {"id": first + 1 + i, "school_id": school.id, "last_name": f"Родитель{i}",
             "first_name": "Анна", "created_at": clock.now()}
            for i in range(chats)
        ])
        await session.execute(insert(ContactAddress), [
            {"person_id": first + 1 + i, "channel": ChannelName.TELEGRAM,
             "address": str(FIRST_CHAT + i), "updated_at": clock.now()}
            for i in range(chats)
        ])
        order = (
            [(i, r) for i in range(chats) for r in range(per_chat)] if adjacent
            else [(i, r) for r in range(per_chat) for i in range(chats)]
        )
        now = clock.now()
        notes = await session.scalars(
            insert(Notification).returning(Notification.id),
            [{"school_id": school.id, "person_id": first + 1 + i,
              "kind": NotificationKind.GRADES, "title": f"Оценка {5 - r % 3} по математике",
              "body": "Контрольная <работа> & тест", "url": "/children",
              "source_kind": "grade", "source_id": i * per_chat + r, "created_at": now}
             for i, r in order],
        )
        await session.execute(insert(Delivery), [
            {"school_id": school.id, "person_id": first + 1 + i, "notification_id": note_id,
             "channel": ChannelName.TELEGRAM, "kind": NotificationKind.GRADES,
             "status": DeliveryStatus.PENDING, "due_at": now, "created_at": now}
            for (i, _), note_id in zip(order, list(notes), strict=True)
        ])


async def statuses(db: Database) -> Counter[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return Counter({status.value: count for status, count in rows})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--per-chat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight per worker")
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--redis-url", help="share the token buckets through Redis")
    parser.add_argument("--adjacent", action="store_true",
                        help="each chat's notifications one after another (worst case)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-telegram-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        db = database(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        db = database(url)
    total = args.chats * args.per_chat
    async with FakeBotAPI(token=TOKEN, bot_limit=RateLimit(30, 1.0),
                          chat_limit=RateLimit(1, 1.0)) as api:
        for i in range(args.chats):
            api.chat(FIRST_CHAT + i)
        await prepare(db, args.chats, args.per_chat, args.adjacent)
        settings = Settings(
            data_dir=folder, secret_key="bench-" + "x" * 40, database_url=url,
            redis_url=args.redis_url, telegram_bot_token=TOKEN,
            telegram_api_base=api.base_url,
        )
        config = WorkerConfig(concurrency=args.concurrency, poll_interval=0.5)
        workers = []
        for n in range(args.workers):
            tg = TelegramChannel.from_settings(settings, db)
            assert tg is not None
            workers.append(Worker(settings, db, {ChannelName.TELEGRAM: tg},
                                  worker_id=f"bench-{n}", config=config))
        buckets = "Redis" if args.redis_url else "in-process"
        print(f"{total} notifications to {args.chats} chats, {args.workers} workers "
              f"x {args.concurrency} sends in flight, {buckets} token buckets, "
              f"{'PostgreSQL' if schema else 'SQLite'}", flush=True)
        stop = asyncio.Event()
        started = api.clock()
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]
        try:
            while True:
                await asyncio.sleep(2.0)
                counts = await statuses(db)
                waiting = counts["pending"] + counts["sending"] + counts["retry"]
                print(f"  {api.clock() - started:6.1f} s: delivered {api.stats.sent}, "
                      f"429s {api.stats.rejected_429}, waiting {waiting}", flush=True)
                if waiting == 0:
                    break
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            for w in workers:
                await w.aclose()
        counts = await statuses(db)
        last = api.stats.last_arrival
        rate = api.stats.sustained_rate()
        print()
        print(f"delivered:                {api.stats.sent} of {total}")
        print(f"sustained rate:           {rate:.2f} msg/s = {rate / 30:.3f} of 30/s")
        print(f"429 answers:              {api.stats.rejected_429}")
        print(f"time to the last arrival: {(last - started) if last else float('nan'):.1f} s "
              f"(ideal {total / 30:.1f} s)")
        print(f"delivery rows:            {dict(counts)}")
    await db.dispose()
    if schema:
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
