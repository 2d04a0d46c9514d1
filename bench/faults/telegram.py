"""Telegram: parents whose chats blocked the bot, some with no e-mail address at all."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from bench.faults.harness import SECRET, Context, settled
from bench.faults.report import Result, delivery_of
from bench.faults.school import post_grades, school_with_grades
from bench.faults.smtp import SmtpServer
from hub.notify.models import Delivery, DeliveryStatus, Notification


async def telegram_blocked(ctx: Context) -> Result:
    """100 parents on Telegram for grades, 40 of whom blocked the bot; half have an e-mail
    address too. Three grades each, then (once the 403s have unlinked the chats) a fourth.
    In-process worker, the fake Bot API, the SMTP server."""
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
            # Made after the chats were unlinked: shown undelivered, or sent by e-mail.
            await post_grades(db, value=2, prefix="t3")
            done = done and await settled(url, deadline=started + ctx.deadline)
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
