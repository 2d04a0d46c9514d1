"""One-click unsubscribe (RFC 8058) through HTTP, as a mail client and as a person would
use it: without signing in, only by POST, only with a token the hub signed."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from hub.clock import SetClock
from hub.config import Settings
from hub.db import Database
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.preferences import Mode, preferences_for, set_mode
from hub.school import Person, Role
from mail.render import render_message, wire_bytes
from mail.tokens import make_token
from tests.mail.conftest import envelope
from tests.support.school import SchoolBuilder

GRADES, ATTENDANCE = NotificationKind.GRADES, NotificationKind.ATTENDANCE
EMAIL, TELEGRAM = ChannelName.EMAIL, ChannelName.TELEGRAM


async def modes(db: Database, person: Person) -> dict[tuple[NotificationKind, ChannelName], Mode]:
    async with db.session() as session:
        return (await preferences_for(session, person.id)).modes


def path_for(settings: Settings, person_id: int, *kinds: NotificationKind) -> str:
    return f"/mail/unsubscribe/{make_token(settings.secret, person_id, kinds)}"


@pytest.fixture
async def parent(school: SchoolBuilder) -> Person:
    child = await school.student("5А")
    return await school.parent_of(child, email="anna@example.test")


async def test_link_in_the_letter_turns_off_that_kind_by_one_click(
    client: TestClient, settings: Settings, db: Database, parent: Person
) -> None:
    before = await modes(db, parent)
    raw = wire_bytes(render_message(envelope(person_id=parent.id), settings))
    header = email.message_from_bytes(raw, policy=policy.default)["List-Unsubscribe"]
    url = header.split(",")[0].strip(" <>")
    client.session.cookie_jar.clear()  # a mail client: no cookies, no CSRF token
    response = await client.post(urlsplit(url).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert "Вы отписались" in await response.text()
    after = await modes(db, parent)
    assert after[(GRADES, EMAIL)] is Mode.OFF
    # everything else stays as it was
    assert {k: v for k, v in after.items() if k != (GRADES, EMAIL)} == {
        k: v for k, v in before.items() if k != (GRADES, EMAIL)
    }
    assert after[(ATTENDANCE, EMAIL)] is Mode.INSTANT
    assert after[(GRADES, TELEGRAM)] is Mode.INSTANT


async def test_get_shows_a_button_and_changes_nothing(
    client: TestClient, settings: Settings, db: Database, parent: Person
) -> None:
    path = path_for(settings, parent.id, GRADES)
    response = await client.get(path)
    assert response.status == 200
    page = await response.text()
    assert f'action="{path}"' in page and 'method="post"' in page
    assert "Отписаться" in page and "оценки" in page
    assert (await modes(db, parent))[(GRADES, EMAIL)] is Mode.INSTANT


async def test_digest_link_turns_off_every_kind_it_names(
    client: TestClient, settings: Settings, db: Database, parent: Person
) -> None:
    response = await client.post(path_for(settings, parent.id, GRADES, ATTENDANCE))
    assert response.status == 200
    after = await modes(db, parent)
    assert after[(GRADES, EMAIL)] is Mode.OFF and after[(ATTENDANCE, EMAIL)] is Mode.OFF
    assert after[(NotificationKind.ANNOUNCEMENTS, EMAIL)] is Mode.INSTANT


def _altered(token: str) -> list[str]:
    payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    other_payload = make_token(b"x", 1, (GRADES,)).split(".")[0]
    return [f"{payload}.{flipped}", f"{other_payload}.{signature}", payload, "garbage",
            f"{payload}.{signature}.x", "%00."]


async def test_forged_or_altered_tokens_are_refused_and_change_nothing(
    client: TestClient, settings: Settings, db: Database, parent: Person, school: SchoolBuilder
) -> None:
    good = make_token(settings.secret, parent.id, (GRADES,))
    forged_elsewhere = make_token(b"another installation's secret", parent.id, (GRADES,))
    for token in [*_altered(good), forged_elsewhere]:
        for method in ("GET", "POST"):
            response = await client.request(method, f"/mail/unsubscribe/{token}")
            assert response.status in (400, 404), (token, method)
            if response.status == 400:  # a NUL in the path is refused before the view
                page = await response.text()
                assert "Ссылка недействительна" in page or "недопустимые символы" in page
    assert (await modes(db, parent))[(GRADES, EMAIL)] is Mode.INSTANT


async def test_token_for_someone_else_only_touches_them(
    client: TestClient, settings: Settings, db: Database, parent: Person, school: SchoolBuilder
) -> None:
    other = await school.person(Role.PARENT)
    response = await client.post(path_for(settings, other.id, GRADES))
    assert response.status == 200
    assert (await modes(db, other))[(GRADES, EMAIL)] is Mode.OFF
    assert (await modes(db, parent))[(GRADES, EMAIL)] is Mode.INSTANT


async def test_token_of_a_person_who_no_longer_exists(
    client: TestClient, settings: Settings
) -> None:
    response = await client.post(path_for(settings, 999_999, GRADES))
    assert response.status == 400


async def test_an_old_link_stops_working_once_the_kind_is_turned_back_on(
    client: TestClient, settings: Settings, db: Database, parent: Person, clock: SetClock
) -> None:
    old_link = path_for(settings, parent.id, GRADES)
    clock.advance(dt.timedelta(minutes=1))
    assert (await client.post(old_link)).status == 200
    assert (await client.post(old_link)).status == 200  # clicked twice: still unsubscribed
    assert (await modes(db, parent))[(GRADES, EMAIL)] is Mode.OFF

    clock.advance(dt.timedelta(days=1))
    async with db.transaction() as session:  # the parent turns grades back on
        await set_mode(session, parent.id, GRADES, EMAIL, Mode.INSTANT)
    clock.advance(dt.timedelta(minutes=1))
    for method in ("GET", "POST"):
        response = await client.request(method, old_link)
        assert response.status == 400, method
        assert "Ссылка недействительна" in await response.text()
    assert (await modes(db, parent))[(GRADES, EMAIL)] is Mode.INSTANT

    # A letter sent after the change carries a link that works.
    assert (await client.post(path_for(settings, parent.id, GRADES))).status == 200
    assert (await modes(db, parent))[(GRADES, EMAIL)] is Mode.OFF
