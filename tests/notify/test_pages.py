"""The pages: the in-app list, notification settings, the delivery log with retry."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from hub.db import Database
from hub.notify.addresses import set_address
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.preferences import Mode, preferences_for
from hub.school import Role
from tests.notify.conftest import Family, mark_absent, post_grade
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def test_everyone_sees_only_their_own_notifications_and_can_mark_them_read(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await mark_absent(db, school.school_id, family.vera, "a-1")

    await sign_in(client, "nina")
    page = await (await client.get("/notifications")).text()
    assert "Отсутствовала" in page and "Оценка 5" not in page
    # Marking someone else's notification read changes nothing of theirs.
    async with db.session() as session:
        annas = await session.scalar(select(Delivery.notification_id).where(
            Delivery.person_id == family.anna.id))
    await post_form(client, "/notifications/read", {"id": str(annas)})
    assert (await post_form(client, "/notifications/read", {"id": "x"})).status == 400

    await sign_in(client, "anna")
    page = await (await client.get("/notifications")).text()
    assert "Оценка 5 по предмету «Математика»" in page and "Алиса Смирнова" in page
    assert "Отсутствовал" not in page  # Vera's absence is Nina's business
    assert '<span class="badge">1</span>' in page and "новое" in page

    response = await post_form(client, "/notifications/read", {"id": "all"})
    assert response.status == 303
    page = await (await client.get("/notifications")).text()
    assert '<span class="badge">' not in page and "новое" not in page


async def test_settings_change_modes_quiet_hours_and_digest_time(
    client: TestClient, db: Database, family: Family
) -> None:
    await sign_in(client, "anna")
    page = await (await client.get("/notifications/settings")).text()
    assert 'name="mode:grades:email"' in page
    assert "Telegram не подключён" in page and 'name="mode:grades:telegram"' not in page

    response = await post_form(client, "/notifications/settings", {
        "mode:grades:email": "digest", "mode:attendance:email": "off",
        "quiet": "on", "quiet_start": "22:00", "quiet_end": "06:30", "digest_at": "18:15",
    })
    assert response.status == 200 and "Настройки сохранены" in await response.text()
    async with db.session() as session:
        prefs = await preferences_for(session, family.anna.id)
    assert prefs.mode(NotificationKind.GRADES, ChannelName.EMAIL) is Mode.DIGEST
    assert prefs.mode(NotificationKind.ATTENDANCE, ChannelName.EMAIL) is Mode.OFF
    assert [t.strftime("%H:%M") for t in prefs.quiet or ()] == ["22:00", "06:30"]
    assert prefs.digest_at.strftime("%H:%M") == "18:15"


async def test_bad_settings_are_refused_and_change_nothing(
    client: TestClient, db: Database, family: Family
) -> None:
    await sign_in(client, "anna")
    for bad in (
        {"mode:grades:email": "loud", "digest_at": "19:00"},
        {"mode:grades:email": "off", "digest_at": "25:00"},
        {"mode:grades:email": "off", "quiet": "on", "quiet_start": "22:00",
         "quiet_end": "22:00", "digest_at": "19:00"},
    ):
        response = await post_form(client, "/notifications/settings", bad)
        assert response.status == 422
        assert "Ничего не сохранено" in await response.text()
    async with db.session() as session:
        prefs = await preferences_for(session, family.anna.id)
    assert prefs.mode(NotificationKind.GRADES, ChannelName.EMAIL) is Mode.INSTANT


async def test_telegram_column_appears_once_linked(
    client: TestClient, db: Database, family: Family
) -> None:
    async with db.transaction() as session:
        await set_address(session, family.anna.id, ChannelName.TELEGRAM, "1001")
    await sign_in(client, "anna")
    page = await (await client.get("/notifications/settings")).text()
    assert 'name="mode:grades:telegram"' in page


async def test_delivery_log_is_for_administrators_with_filters_and_retry(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await mark_absent(db, school.school_id, family.vera, "a-1")
    async with db.transaction() as session:
        dead = await session.scalar(select(Delivery).where(
            Delivery.person_id == family.nina.id))
        assert dead is not None
        dead_id = dead.id
        await session.execute(update(Delivery).where(Delivery.id == dead_id).values(
            status=DeliveryStatus.DEAD, attempts=8, last_error="451 mailbox busy"))

    for login in ("anna", "teacher"):
        await sign_in(client, login)
        assert (await client.get("/admin/deliveries")).status == 403
        assert (await post_form(client, f"/admin/deliveries/{dead_id}/retry")).status == 403

    await sign_in(client, "admin")
    page = await (await client.get("/admin/deliveries")).text()
    assert "Найдено: 2" in page and "Смирнова Анна" in page and "Петрова Нина" in page
    page = await (await client.get("/admin/deliveries?status=dead")).text()
    assert "Найдено: 1" in page and "451 mailbox busy" in page and "Повторить" in page
    page = await (await client.get("/admin/deliveries?kind=grades&person=Смирн")).text()
    assert "Найдено: 1" in page and "Оценка 5" in page
    assert (await client.get("/admin/deliveries?status=lost")).status == 400

    response = await post_form(client, f"/admin/deliveries/{dead_id}/retry")
    assert response.status == 303
    async with db.session() as session:
        again = await session.get_one(Delivery, dead_id)
    assert again.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING,
                            DeliveryStatus.SENT)
    assert again.attempts <= 1
    # Only dead or failed deliveries can be retried.
    assert (await post_form(client, f"/admin/deliveries/{dead_id}/retry")).status == 409


async def test_delivery_log_never_shows_another_schools_deliveries(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    other = await SchoolBuilder(db).start("Школа № 2", "school2")
    await other.person(Role.SYSADMIN, login="admin2")
    async with db.transaction() as session:
        await session.execute(update(Delivery).values(status=DeliveryStatus.DEAD))
        delivery_id = await session.scalar(select(Delivery.id))
    await sign_in(client, "admin2")
    assert "Найдено: 0" in await (await client.get("/admin/deliveries")).text()
    assert (await post_form(client, f"/admin/deliveries/{delivery_id}/retry")).status == 409


async def test_delivery_log_marks_a_possible_duplicate(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    async with db.transaction() as session:
        await session.execute(update(Delivery).values(
            status=DeliveryStatus.SENT, attempts=2, possible_duplicates=1))
    await sign_in(client, "admin")
    page = await (await client.get("/admin/deliveries")).text()
    assert "возможен повтор ×1" in page
