"""Administration pages: people list and search, a person's page and its changes."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub.auth.models import Account
from hub.db import Database
from hub.school import Consent, Enrolment, Guardianship, Person, Role, TeachingAssignment
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def _admin(school: SchoolBuilder, client: TestClient) -> Person:
    admin = await school.person(Role.SYSADMIN, login="admin", last_name="Админов")
    await sign_in(client, "admin")
    return admin


async def test_people_list_searches_and_filters_by_role_and_class(
    client: TestClient, school: SchoolBuilder
) -> None:
    await _admin(school, client)
    petrov = await school.student("5А", last_name="Петров", first_name="Пётр")
    await school.student("5Б", last_name="Сидоров", first_name="Семён")
    await school.parent_of(petrov, last_name="Петрова", first_name="Анна")
    await school.teacher_of("6В", last_name="Учителева", first_name="Ольга")

    page = await (await client.get("/admin/people?q=петров")).text()
    assert "Петров Пётр" in page and "Петрова Анна" in page and "Сидоров" not in page

    class_5a = school.classes["5А"].id
    page = await (await client.get(f"/admin/people?class={class_5a}")).text()
    assert "Петров Пётр" in page and "Петрова Анна" in page
    assert "Сидоров" not in page and "Учителева" not in page

    page = await (await client.get("/admin/people?role=teacher")).text()
    assert "Учителева Ольга" in page and "Петров Пётр" not in page


async def test_a_parent_cannot_open_the_people_pages(
    client: TestClient, school: SchoolBuilder
) -> None:
    child = await school.student("5А")
    await school.parent_of(child, login="mama")
    await sign_in(client, "mama")
    assert (await client.get("/admin/people")).status == 403
    assert (await client.get(f"/admin/people/{child.id}")).status == 403
    response = await post_form(client, f"/admin/people/{child.id}",
                               {"last_name": "Взлом", "first_name": "Х"})
    assert response.status == 403


async def test_create_person_then_edit_fields(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await _admin(school, client)
    response = await post_form(client, "/admin/people", {
        "last_name": "Новикова", "first_name": "Вера", "email": "vera@example.org",
        "roles": "parent",
    })
    assert response.status == 303
    location = response.headers["Location"]
    person_id = int(re.search(r"/admin/people/(\d+)", location).group(1))  # type: ignore[union-attr]
    page = await (await client.get(location)).text()
    assert "Новикова Вера" in page and "Человек добавлен." in page

    response = await post_form(client, f"/admin/people/{person_id}", {
        "last_name": "Новикова", "first_name": "Вера", "middle_name": "Павловна",
        "email": "", "phone": "+7 900 123-45-67",
    })
    assert response.status == 303
    async with db.session() as session:
        person = await session.get_one(Person, person_id)
        assert person.middle_name == "Павловна"
        assert person.email is None and person.phone == "+7 900 123-45-67"


async def test_bad_email_is_refused_and_changes_nothing(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await _admin(school, client)
    person = await school.person(Role.PARENT, email="good@example.org")
    response = await post_form(client, f"/admin/people/{person.id}", {
        "last_name": "Другая", "first_name": "Фамилия", "email": "not an email",
    })
    assert response.status == 422
    assert "E-mail «not an email» записан неверно." in await response.text()
    async with db.session() as session:
        fresh = await session.get_one(Person, person.id)
        assert (fresh.last_name, fresh.email) == ("Иванов", "good@example.org")


async def test_only_the_sysadmin_changes_roles(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.HR, login="kadry")
    person = await school.person(Role.PARENT)
    await sign_in(client, "kadry")
    response = await post_form(client, f"/admin/people/{person.id}/roles",
                               {"roles": "sysadmin"})
    assert response.status == 403
    # HR cannot create a privileged person either.
    response = await post_form(client, "/admin/people", {
        "last_name": "Хакер", "first_name": "Иван", "roles": "sysadmin",
    })
    assert response.status == 403

    await _admin(school, client)
    response = await post_form(client, f"/admin/people/{person.id}/roles",
                               {"roles": ["parent", "teacher"]})
    assert response.status == 303
    async with db.session() as session:
        assert (await session.get_one(Person, person.id)).roles == {Role.PARENT, Role.TEACHER}
        assert await session.scalar(select(Person).where(Person.last_name == "Хакер")) is None


async def test_class_guardianship_teaching_and_consent_from_the_person_page(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await _admin(school, client)
    child = await school.student("5А", last_name="Ученикова")
    parent = await school.person(Role.PARENT, last_name="Родителева", consent=False)
    teacher = await school.person(Role.TEACHER, last_name="Учителев")
    class_5b = await school.school_class("5Б")

    assert (await post_form(client, f"/admin/people/{child.id}/class",
                            {"class_id": class_5b.id})).status == 303
    assert (await post_form(client, f"/admin/people/{parent.id}/guardianships",
                            {"as": "parent", "other_id": child.id})).status == 303
    assert (await post_form(client, f"/admin/people/{teacher.id}/teaching",
                            {"class_id": class_5b.id, "subject": "Физика"})).status == 303
    assert (await post_form(client, f"/admin/people/{child.id}/consents",
                            {"purpose": "notifications", "given_by": parent.id})).status == 303

    page = await (await client.get(f"/admin/classes/{class_5b.id}")).text()
    assert "Ученикова" in page and "Родителева" in page and "Физика" in page

    async with db.session() as session:
        assert await session.get(Enrolment, child.id) is not None
        assert (await session.get_one(Enrolment, child.id)).class_id == class_5b.id
        assert await session.get(Guardianship, (parent.id, child.id)) is not None
        assert await session.get(TeachingAssignment, (teacher.id, class_5b.id, "Физика"))
        consent = await session.scalar(
            select(Consent).where(Consent.person_id == child.id, Consent.given_by_id == parent.id)
        )
        assert consent is not None and consent.withdrawn_at is None

    # Consent for a child given by someone who is not their guardian is refused.
    response = await post_form(client, f"/admin/people/{child.id}/consents",
                               {"purpose": "processing", "given_by": teacher.id})
    assert response.status == 422
    assert "законный представитель" in await response.text()

    assert (await post_form(client, f"/admin/people/{child.id}/consents/withdraw",
                            {"purpose": "notifications"})).status == 303
    async with db.session() as session:
        consent = await session.scalar(
            select(Consent).where(Consent.person_id == child.id, Consent.given_by_id == parent.id)
        )
        assert consent is not None and consent.withdrawn_at is not None
    page = await (await client.get(f"/admin/people/{child.id}")).text()
    assert "Родителева" in page  # given by


async def test_another_schools_person_is_not_found(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await _admin(school, client)
    other = await SchoolBuilder(db).start("Другая школа", "other")
    stranger = await other.person(Role.PARENT, last_name="Чужой")
    response = await client.get(f"/admin/people/{stranger.id}")
    assert response.status == 404
    assert "Чужой" not in await response.text()
    response = await post_form(client, f"/admin/people/{stranger.id}",
                               {"last_name": "Изменён", "first_name": "Х"})
    assert response.status == 404
    async with db.session() as session:
        assert (await session.get_one(Person, stranger.id)).last_name == "Чужой"


async def test_issue_account_by_invitation_then_reset_and_deactivate(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await _admin(school, client)
    person = await school.person(Role.PARENT, last_name="Петрова")
    response = await post_form(client, f"/admin/people/{person.id}/account",
                               {"login": "petrova", "mode": "invite"})
    assert response.status == 200
    page = await response.text()
    link = re.search(r"http://[^<\s]+/invite/([\w-]+)", page)
    assert link is not None
    invite_path = f"/invite/{link.group(1)}"

    # Shown once: the person's page does not show the link again.
    assert link.group(1) not in await (await client.get(f"/admin/people/{person.id}")).text()

    # A reset makes a new link; the first one stops working.
    response = await post_form(client, f"/admin/people/{person.id}/account/invite")
    new_link = re.search(r"/invite/([\w-]+)", await response.text())
    assert new_link is not None and new_link.group(1) != link.group(1)
    client.session.cookie_jar.clear()
    assert (await client.get(invite_path)).status == 410
    assert (await client.get(f"/invite/{new_link.group(1)}")).status == 200

    await sign_in(client, "admin")
    response = await post_form(client, f"/admin/people/{person.id}/account/active",
                               {"active": "0"})
    assert response.status == 303
    async with db.session() as session:
        account = await session.scalar(select(Account).where(Account.person_id == person.id))
        assert account is not None and not account.is_active


async def test_initial_password_is_shown_once_and_must_be_changed(
    client: TestClient, school: SchoolBuilder
) -> None:
    await _admin(school, client)
    person = await school.person(Role.TEACHER)
    response = await post_form(client, f"/admin/people/{person.id}/account",
                               {"login": "uchitel", "mode": "password"})
    found = re.search(r'Начальный пароль[^<]*<code class="secret">([^<]+)</code>',
                      await response.text())
    assert found is not None
    await sign_in(client, "uchitel", found.group(1))
    response = await client.get("/profile", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/account/password"


async def test_taken_login_gets_a_clear_message(
    client: TestClient, school: SchoolBuilder
) -> None:
    await _admin(school, client)
    person = await school.person(Role.PARENT)
    response = await post_form(client, f"/admin/people/{person.id}/account",
                               {"login": "admin", "mode": "invite"})
    assert response.status == 422
    assert "Логин «admin» уже занят." in await response.text()


async def test_malformed_class_id_is_refused_and_keeps_the_class(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await _admin(school, client)
    child = await school.student("5А")
    response = await post_form(client, f"/admin/people/{child.id}/class", {"class_id": "5Б"})
    assert response.status == 422
    async with db.session() as session:
        enrolment = await session.get(Enrolment, child.id)
        assert enrolment is not None and enrolment.class_id == school.classes["5А"].id
