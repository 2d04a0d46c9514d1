"""The identity cache (hub.auth.identity): a signed-in request is served from memory, yet a
revoked role, a deactivated account, a new class or an ended session counts on the next
request."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import event, select

from hub.auth.models import Account
from hub.db import Database
from hub.directory import set_account_active
from hub.school import Person, Role, set_roles
from hub.stamps import TableStamps
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


def count_statements(db: Database) -> list[str]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_signed_in_request_reads_no_identity_twice(
    client: TestClient, db: Database, school: SchoolBuilder
) -> None:
    await school.person(Role.COORDINATOR, login="coord")
    await sign_in(client, "coord")
    statements = count_statements(db)
    assert (await client.get("/profile", allow_redirects=False)).status == 200
    first = len(statements)
    assert (await client.get("/profile", allow_redirects=False)).status == 200
    assert not any("web_sessions" in s for s in statements[first:])
    assert not any("teaching_assignments" in s for s in statements[first:])


async def test_a_revoked_role_counts_on_the_next_request(
    client: TestClient, db: Database, school: SchoolBuilder
) -> None:
    coordinator = await school.person(Role.COORDINATOR, login="coord")
    await sign_in(client, "coord")
    assert (await client.get("/admin/people", allow_redirects=False)).status == 200
    async with db.transaction() as session:
        person = await session.get_one(Person, coordinator.id)
        await set_roles(session, person, [Role.PARENT])
    assert (await client.get("/admin/people", allow_redirects=False)).status == 403


async def test_a_deactivated_account_is_signed_out_at_once(
    client: TestClient, db: Database, school: SchoolBuilder
) -> None:
    parent = await school.person(Role.PARENT, login="parent")
    await sign_in(client, "parent")
    assert (await client.get("/profile", allow_redirects=False)).status == 200
    async with db.transaction() as session:
        account = await session.scalar(select(Account).where(Account.person_id == parent.id))
        assert account is not None
        await set_account_active(session, account, False)
    response = await client.get("/profile", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/signin")


async def test_a_new_class_counts_on_the_next_request(
    client: TestClient, db: Database, school: SchoolBuilder
) -> None:
    await school.school_class("5А")
    teacher = await school.teacher_of("5А", login="teacher")
    await sign_in(client, "teacher")
    before = await (await client.get("/board")).text()
    await school.school_class("6В")
    async with db.transaction() as session:
        from hub.school import TeachingAssignment

        session.add(TeachingAssignment(teacher_id=teacher.id,
                                       class_id=school.classes["6В"].id, subject="Физика"))
    assert "6В" not in before
    assert "6В" in await (await client.get("/board/new")).text()


async def test_signing_out_ends_the_remembered_session(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="parent")
    await sign_in(client, "parent")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hub_session"].value
    assert (await client.get("/profile", allow_redirects=False)).status == 200
    assert (await post_form(client, "/signout")).status == 303
    again = await client.get("/profile", allow_redirects=False,
                             headers={"Cookie": f"hub_session={cookie}"})
    assert again.status == 303


def test_stamps_are_shared_by_processes_through_a_folder(tmp_path: Path) -> None:
    one, other = TableStamps(tmp_path), TableStamps(tmp_path)
    before = other.current(("accounts", "people"))
    one.bump(["people"])
    after = other.current(("accounts", "people"))
    assert after[0] == before[0] and after[1] != before[1]
    one.bump(["people"])
    assert other.current(("accounts", "people")) != after


def test_stamps_without_a_folder_are_this_process_only() -> None:
    stamps = TableStamps()
    assert stamps.current(("people",)) == (0,)
    stamps.bump(["people", "accounts"])
    assert stamps.current(("people", "accounts")) == (1, 1)
