"""A school-wide announcement fans out in the database (hub.notify.outbox.enqueue_audience):
parents with the defaults and parents with settings of their own each get what their
settings say, and nobody without consent or an address is written a delivery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from forum import board
from forum.models import Audience
from hub.auth.access import load_principal
from hub.db import Database
from hub.notify.addresses import disable_address, set_address
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, Notification
from hub.notify.preferences import Mode, set_mode, set_schedule
from hub.school import Person, Role
from tests.support.school import SchoolBuilder


async def test_a_school_announcement_reaches_each_parent_as_their_settings_say(
    db: Database, school: SchoolBuilder, tmp_path: Path
) -> None:
    await school.school_class("5А")
    await school.school_class("6Б")
    first = await school.student("5А", login="student1")
    second = await school.student("6Б", login="student2")
    plain = await school.parent_of(first, login="plain", email="plain@example.org")
    both = await school.parent_of(first, second, login="both", email="both@example.org")
    chat = await school.parent_of(second, login="chat", email="chat@example.org")
    digest = await school.parent_of(second, login="digest", email="digest@example.org")
    silent = await school.parent_of(first, login="silent")
    unlinked = await school.parent_of(first, login="unlinked")  # Telegram only, bot blocked
    refused = await school.parent_of(first, login="refused", email="no@example.org",
                                     consent=False)
    coordinator = await school.person(Role.COORDINATOR, login="coord")
    async with db.transaction() as session:
        (await session.get_one(Person, silent.id)).email = None
        (await session.get_one(Person, unlinked.id)).email = None
        await set_address(session, unlinked.id, ChannelName.TELEGRAM, "100501")
        await disable_address(session, unlinked.id, ChannelName.TELEGRAM, "403: blocked")
        await set_address(session, chat.id, ChannelName.TELEGRAM, "100500")
        await set_mode(session, digest.id, NotificationKind.ANNOUNCEMENTS, ChannelName.EMAIL,
                       Mode.DIGEST)
        await set_schedule(session, digest.id, quiet=None, digest_at=dt.time(19, 0))
    async with db.transaction() as session:
        principal = await load_principal(session, await session.get_one(Person, coordinator.id))
        await board.create_announcement(session, principal, board.Draft(
            title="Собрание", body="В четверг.", audience=Audience.SCHOOL,
        ), data_dir=tmp_path)
    async with db.session() as session:
        told = {(n.person_id, n.child_id) for n in await session.scalars(select(Notification))}
        sent = {(d.person_id, d.channel, d.digest_key is not None)
                for d in await session.scalars(select(Delivery))}
    assert told == {(plain.id, first.id), (both.id, None), (chat.id, second.id),
                    (digest.id, second.id), (silent.id, first.id), (unlinked.id, first.id)}
    assert refused.id not in {person for person, _ in told}
    assert sent == {
        (plain.id, ChannelName.EMAIL, False), (both.id, ChannelName.EMAIL, False),
        (chat.id, ChannelName.EMAIL, False), (chat.id, ChannelName.TELEGRAM, False),
        (digest.id, ChannelName.EMAIL, True),
        # Not silently dropped: the worker finds no chat and records it as undelivered.
        (unlinked.id, ChannelName.TELEGRAM, False),
    }
