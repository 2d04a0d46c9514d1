"""How school-hub is assembled: the one composition root.

Every part of the hub is imported here plainly, and the web application, the delivery
worker and the command line are built here from the same parts: the event handlers that
turn grades, attendance, announcements, replies and moderation decisions into
notifications; the channels (e-mail, Telegram); the moderation queue's review targets; the
sources of personal data for export and erasure; the web pages of every package.

The kernel (hub.db, hub.events, hub.notify, hub.http, ...) never imports a domain or a
channel; the domains (hub.journal, forum, moderation) and the channels (mail, bots) import
the kernel; only this module, and through it hub.cli, knows them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

import bots.models  # noqa: F401  (tables)
import mail.mailbox
from bots import privacy as bots_privacy
from bots import web as bots_web
from forum import following as forum_following
from forum import notifications as forum_notifications
from forum import privacy as forum_privacy
from forum import targets as forum_targets
from forum import web as forum_web
from hub import migrate
from hub.config import Settings
from hub.db import Database
from hub.events import EventHandlers
from hub.http import api
from hub.http.keys import BROKER, DB, PRIVACY_SOURCES, SETTINGS
from hub.journal import api as journal_api
from hub.journal import notifications as journal_notifications
from hub.journal import privacy as journal_privacy
from hub.journal import web as journal_web
from hub.notify import handlers as notify_handlers
from hub.notify import privacy as notify_privacy
from hub.notify import schedule
from hub.notify import web as notify_web
from hub.notify.channel import Channel, ChannelName
from hub.notify.worker import Worker, WorkerConfig
from hub.privacy import PersonalDataSource
from hub.stamps import TableStamps
from hub.web import account, admin, admin_api, live
from hub.web.app import create_app
from mail import admin as mail_admin
from mail import privacy as mail_privacy
from mail import unsubscribe
from mail.channel import SmtpChannel
from moderation import configure_detector, screening, watched
from moderation import following as moderation_following
from moderation import privacy as moderation_privacy
from moderation import web as moderation_web
from moderation.targets import register_target

log = logging.getLogger("hub")

# Where each package keeps its templates (<package>/templates/<package>/...).
TEMPLATE_PACKAGES = (
    "hub.web", "hub.notify", "hub.journal", "forum", "moderation", "mail", "bots",
)


def event_handlers() -> EventHandlers:
    """Who hears which domain event, inside the transaction that caused it."""
    handlers = EventHandlers()
    journal_notifications.subscribe(handlers)  # grades, attendance
    notify_handlers.subscribe(handlers)  # moderation decisions
    forum_notifications.subscribe(handlers)  # announcements, replies, reminders
    return handlers


def privacy_sources() -> tuple[PersonalDataSource, ...]:
    """Every package's personal data, for export and erasure (152-ФЗ)."""
    return (
        bots_privacy.PRIVACY,
        notify_privacy.PRIVACY,
        mail_privacy.PRIVACY,
        forum_privacy.PRIVACY,
        moderation_privacy.PRIVACY,
        journal_privacy.PRIVACY,
    )


def configure(settings: Settings) -> None:
    """What the services of every process read, set in this one place for the web app, the
    worker and every command alike: the school's zone (quiet hours, digests, dates people
    read), what the detector does with obscenity, what the moderation queue can publish,
    reject, hide and restore (the board's and the forum's items)."""
    schedule.configure(settings.tz)
    screening.configure(tz=settings.tz)
    configure_detector(data_dir=settings.data_dir, rude_unless_aimed=settings.rude_words == "aimed")
    watched.configure(refuse_obscene=settings.obscenity_action == "refuse")
    for target in forum_targets.TARGETS:
        register_target(target)


def database(url: str, *, stamps_dir: Path | None = None, **engine_kwargs: Any) -> Database:
    """The database at `url`, its sessions carrying the hub's event handlers. With
    `stamps_dir`, the processes on this machine share its write stamps (hub.stamps), so a
    role revoked in one is seen by the identity cache of every other."""
    stamps = TableStamps(stamps_dir) if stamps_dir is not None else None
    return Database(url, handlers=event_handlers(), stamps=stamps, **engine_kwargs)


def shared_database(settings: Settings) -> Database:
    """The deployment's database, its write stamps shared through the data folder."""
    return database(settings.database_url, stamps_dir=settings.data_dir / "stamps")


def channels(settings: Settings, db: Database, *,
             concurrency: int = WorkerConfig.concurrency) -> dict[ChannelName, Channel]:
    """The channels this deployment sends through: e-mail always (an SMTP server when one
    is configured, with a connection for each send a worker has in flight, else the local
    mailbox), Telegram when a bot token is set."""
    built: dict[ChannelName, Channel] = {
        ChannelName.EMAIL: SmtpChannel(settings, pool_size=concurrency) if settings.smtp_host
        else mail.mailbox.MailboxChannel(settings, db),
    }
    if settings.telegram_bot_token is not None:
        from bots.channel import TelegramChannel  # aiogram is slow to import: only when used

        telegram = TelegramChannel.from_settings(settings, db)
        if telegram is not None:
            built[ChannelName.TELEGRAM] = telegram
    return built


def worker(settings: Settings, db: Database, **options: Any) -> Worker:
    configure(settings)
    config = options.get("config") or WorkerConfig()
    return Worker(settings, db, channels(settings, db, concurrency=config.concurrency),
                  **options)


def web_app(settings: Settings, *, db: Database | None = None) -> web.Application:
    """The whole web application: the kernel's app with every package's pages."""
    configure(settings)
    app = create_app(settings, db=db or shared_database(settings),
                     template_packages=TEMPLATE_PACKAGES)
    if db is None:
        app.on_cleanup.append(_dispose_database)
    app[PRIVACY_SOURCES] = privacy_sources()
    api.setup(app)  # first: the others describe their endpoints in its OpenAPI document
    account.setup(app)
    live.setup(app, kinds={
        "board": forum_following.may_follow_board,
        "topic": forum_following.may_follow_topic,
        "queue": moderation_following.may_follow_queue,
    })
    admin.setup(app)
    admin_api.setup(app)
    journal_web.setup(app)
    journal_api.setup(app)
    bots_web.setup(app)
    moderation_web.setup(app)
    notify_web.setup(app)
    unsubscribe.setup(app)
    mail_admin.setup(app)
    forum_web.setup(app)
    if settings.embedded_worker:
        app.cleanup_ctx.append(_embedded_worker)
    return app


async def _dispose_database(app: web.Application) -> None:
    await app[DB].dispose()


async def _embedded_worker(app: web.Application) -> AsyncIterator[None]:
    """`hub serve` delivers too, unless HUB_EMBEDDED_WORKER is off (separate `hub worker`s)."""
    embedded = worker(app[SETTINGS], app[DB], broker=app[BROKER])
    stop = asyncio.Event()
    task = asyncio.create_task(embedded.run(stop))
    yield
    stop.set()
    try:
        await asyncio.wait_for(task, timeout=30)
    except TimeoutError:
        log.warning("embedded worker did not stop in time")
    finally:
        with contextlib.suppress(Exception):
            await embedded.aclose()


async def prepare_database(settings: Settings) -> None:
    """Migrate an empty database; refuse to go on with an outdated schema."""

    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)  # no events: it only reads and writes the schema
    try:
        current, head = await migrate.state(db)
        if current is None:
            await migrate.upgrade(db)
        elif current != head:
            print(
                f"hub: the database is at revision {current}, this version needs {head}: "
                "run `hub migrate` first",
                file=sys.stderr,
            )
            raise SystemExit(2)
    finally:
        await db.dispose()


async def open_database(settings: Settings) -> Database:
    """The database, ready for use in the running event loop."""
    await prepare_database(settings)
    configure(settings)
    return shared_database(settings)
