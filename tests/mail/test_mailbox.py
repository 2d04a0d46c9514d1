"""The local mailbox: without SMTP settings, e-mail is kept for administrators to read,
and only they can read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from hub.compose import channels
from hub.config import Settings
from hub.db import Database
from hub.notify.channel import ChannelName, Item
from hub.school import Person, Role
from mail.channel import SmtpChannel
from mail.mailbox import MailboxChannel
from mail.privacy import PRIVACY
from tests.mail.conftest import envelope, grade_item
from tests.support.school import SchoolBuilder
from tests.support.web import sign_in


@pytest.fixture
async def parent(school: SchoolBuilder) -> Person:
    child = await school.student("5А", last_name="Петров", first_name="Петя")
    return await school.parent_of(child, email="anna@example.test")


async def kept(settings: Settings, db: Database, person: Person, *items: Item,
               delivery_id: int | None = None) -> str:
    channel = MailboxChannel(settings, db)
    return await channel.send(envelope(*items, person_id=person.id, address=person.email or "",
                                       delivery_id=delivery_id))


async def test_administrator_reads_what_the_parent_would_receive(
    client: TestClient, settings: Settings, db: Database, school: SchoolBuilder, parent: Person
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    item = grade_item(title="Оценка 5 по математике", body="<b>Контрольная</b> работа")
    await kept(settings, db, parent, item)
    await sign_in(client, "admin")

    listing = await client.get("/admin/mailbox")
    assert listing.status == 200
    page = await listing.text()
    assert "anna@example.test" in page and "Оценка 5 по математике — Петров Петя" in page
    assert 'href="/admin/mailbox"' in page  # the nav link

    message_id = page.split('href="/admin/mailbox/')[1].split('"')[0]
    shown = await client.get(f"/admin/mailbox/{message_id}")
    assert shown.status == 200
    text = await shown.text()
    assert "Здравствуйте" in text and "List-Unsubscribe" in text
    assert "&lt;b&gt;Контрольная&lt;/b&gt;" in text  # the letter's text, escaped on the page

    html = await client.get(f"/admin/mailbox/{message_id}/html")
    assert html.status == 200
    assert html.headers["Content-Security-Policy"].startswith("sandbox;")
    body = await html.text()
    assert "&lt;b&gt;Контрольная&lt;/b&gt;" in body and "<b>Контрольная" not in body

    found = await client.get("/admin/mailbox", params={"to": "ANNA@"})
    assert "Оценка 5 по математике" in await found.text()
    missed = await client.get("/admin/mailbox", params={"to": "nobody@"})
    assert "Оценка 5 по математике" not in await missed.text()


@pytest.mark.parametrize(
    "role", [Role.PARENT, Role.TEACHER, Role.COORDINATOR, Role.MODERATOR, Role.HR, Role.STUDENT]
)
async def test_only_the_system_administrator_may_read_it(
    client: TestClient, settings: Settings, db: Database, school: SchoolBuilder,
    parent: Person, role: Role,
) -> None:
    await kept(settings, db, parent)
    await school.person(role, login="someone")
    await sign_in(client, "someone")
    for path in ("/admin/mailbox", "/admin/mailbox/1", "/admin/mailbox/1/html"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 403, path
        assert "anna@example.test" not in await response.text()


async def test_anonymous_is_sent_to_sign_in(client: TestClient) -> None:
    response = await client.get("/admin/mailbox/1/html", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/signin")


async def test_another_schools_administrator_sees_nothing(
    client: TestClient, settings: Settings, db: Database, parent: Person
) -> None:
    await kept(settings, db, parent)
    other = await SchoolBuilder(db).start("Школа № 2", "school2")
    await other.person(Role.SYSADMIN, login="admin2")
    await sign_in(client, "admin2")
    listing = await client.get("/admin/mailbox")
    assert "anna@example.test" not in await listing.text()
    assert (await client.get("/admin/mailbox/1")).status == 404
    assert (await client.get("/admin/mailbox/1/html")).status == 404
    assert (await client.get("/admin/mailbox/99999999999")).status == 404


async def test_a_retried_delivery_is_kept_once(
    client: TestClient, settings: Settings, db: Database, school: SchoolBuilder, parent: Person
) -> None:
    first = await kept(settings, db, parent, delivery_id=77)
    again = await kept(settings, db, parent, delivery_id=77)
    await kept(settings, db, parent, delivery_id=78)
    assert first == again
    await school.person(Role.SYSADMIN, login="admin")
    await sign_in(client, "admin")
    assert "Найдено писем: 2." in await (await client.get("/admin/mailbox")).text()


async def test_personal_data_export_and_erasure(
    settings: Settings, db: Database, school: SchoolBuilder, parent: Person
) -> None:
    someone_else = await school.person(Role.PARENT, email="boris@example.test")
    await kept(settings, db, parent)
    await kept(settings, db, someone_else)
    async with db.transaction() as session:
        exported = await PRIVACY.export(session, parent.id)
        assert [row["to"] for row in exported] == ["anna@example.test"]
        assert "Оценка 5 по математике" in exported[0]["subject"]
        await PRIVACY.erase(session, parent.id)
    async with db.session() as session:
        assert await PRIVACY.export(session, parent.id) == []
        assert len(await PRIVACY.export(session, someone_else.id)) == 1


async def test_the_embedded_default_keeps_mail_and_smtp_settings_send_it(
    settings: Settings, sqlite_db: Database, tmp_path: Path
) -> None:
    assert isinstance(channels(settings, sqlite_db)[ChannelName.EMAIL], MailboxChannel)
    with_smtp = Settings(data_dir=tmp_path / "v2", secret_key="k" * 40, smtp_host="127.0.0.1")
    channel = channels(with_smtp, sqlite_db)[ChannelName.EMAIL]
    assert isinstance(channel, SmtpChannel)
    await channel.aclose()
