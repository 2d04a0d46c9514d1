"""CSV import of people and classes: the service, the upload form and `hub import people`."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub import cli
from hub.db import Database
from hub.importer import ImportRejected, import_people
from hub.school import (
    Enrolment,
    Guardianship,
    Person,
    Role,
    SchoolClass,
    TeachingAssignment,
)
from tests.support.school import SchoolBuilder
from tests.support.web import (
    browser_multipart,
    csrf_token,
    ensure_csrf,
    send_in_two_parts,
    sign_in,
)

HEADER = "external_id;last_name;first_name;middle_name;roles;class;subject;email;phone;guardian_of"
GOOD = "\n".join([
    HEADER,
    "S-001;Иванов;Пётр;Сергеевич;student;5А;;;;",
    "S-002;Иванова;Мария;;ученик;2 б;;;;",
    "P-001;Иванова;Анна;Петровна;parent;;;ivanova.anna@example.org;+7 900 000-00-01;S-001 S-002",
    "T-001;Смирнова;Ольга;Ивановна;teacher;5а 6-А;Математика;smirnova@example.org;;",
]) + "\n"


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def _import(db: Database, school_id: int, data: bytes, grant: bool = True) -> object:
    async with db.transaction() as session:
        return await import_people(session, school_id, data, may_grant_roles=grant)


async def test_import_creates_people_classes_enrolments_guardianships_and_teaching(
    db: Database, school: SchoolBuilder
) -> None:
    report = await _import(db, school.school_id, GOOD.encode())
    assert report.created == 4 and report.updated == 0  # type: ignore[attr-defined]
    async with db.session() as session:
        classes = set(await session.scalars(select(SchoolClass.name)))
        assert classes == {"5А", "2Б", "6А"}
        anna = await session.scalar(select(Person).where(Person.external_id == "P-001"))
        assert anna is not None and anna.roles == {Role.PARENT}
        assert anna.email == "ivanova.anna@example.org"
        children = set(await session.scalars(
            select(Person.external_id).join(Guardianship, Guardianship.child_id == Person.id)
            .where(Guardianship.parent_id == anna.id)
        ))
        assert children == {"S-001", "S-002"}
        petr_class = await session.scalar(
            select(SchoolClass.name).join(Enrolment, Enrolment.class_id == SchoolClass.id)
            .join(Person, Person.id == Enrolment.student_id).where(Person.external_id == "S-001")
        )
        assert petr_class == "5А"
        taught = set(await session.scalars(
            select(SchoolClass.name)
            .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
            .where(TeachingAssignment.subject == "Математика")
        ))
        assert taught == {"5А", "6А"}


async def test_reimport_updates_by_external_id_instead_of_duplicating(
    db: Database, school: SchoolBuilder
) -> None:
    await _import(db, school.school_id, GOOD.encode())
    changed = GOOD.replace("Сергеевич;student;5А", "Сергеевич;student;6А")
    report = await _import(db, school.school_id, changed.encode())
    assert report.created == 0 and report.updated == 4  # type: ignore[attr-defined]
    assert await _count(db, Person) == 4
    assert await _count(db, Guardianship) == 2
    async with db.session() as session:
        name = await session.scalar(
            select(SchoolClass.name).join(Enrolment, Enrolment.class_id == SchoolClass.id)
            .join(Person, Person.id == Enrolment.student_id).where(Person.external_id == "S-001")
        )
        assert name == "6А"


async def test_bom_and_comma_delimiter_are_accepted(db: Database, school: SchoolBuilder) -> None:
    data = ("\ufeffexternal_id,last_name,first_name,roles,class\n"
            "A1,Петров,Иван,student,7 в\n").encode()
    report = await _import(db, school.school_id, data)
    assert report.created == 1  # type: ignore[attr-defined]
    assert report.classes_created == ["7В"]  # type: ignore[attr-defined]


async def test_bad_rows_are_all_reported_by_line_and_nothing_is_imported(
    db: Database, school: SchoolBuilder
) -> None:
    bad = "\n".join([
        HEADER,
        "S-001;Иванов;Пётр;;student;5А;;;;",
        "S-002;;Мария;;student;5А;;;;",  # line 3: no last name
        "S-003;Петров;Иван;;волшебник;5А;;;;",  # line 4: unknown role
        "S-004;Сидоров;Олег;;student;12Я;;;;",  # line 5: bad class
        "P-001;Сидорова;Анна;;parent;;;not-an-email;;S-999",  # line 6: e-mail, unknown child
        "S-001;Дубль;Пётр;;student;5А;;;;",  # line 7: duplicate external_id
    ]).encode()
    with pytest.raises(ImportRejected) as caught:
        await _import(db, school.school_id, bad)
    lines = {error.line for error in caught.value.errors}
    assert lines == {3, 4, 5, 6, 7}
    messages = " | ".join(str(e) for e in caught.value.errors)
    assert "строка 4: неизвестная роль «волшебник»" in messages
    assert "строка 7: external_id «S-001» уже был в строке 2" in messages
    assert await _count(db, Person) == 0
    assert await _count(db, SchoolClass) == 0


async def test_reference_to_a_missing_child_rejects_the_whole_file(
    db: Database, school: SchoolBuilder
) -> None:
    data = (HEADER + "\nS-1;Иванов;Пётр;;student;5А;;;;\n"
            "P-1;Иванова;Анна;;parent;;;;;S-404\n").encode()
    with pytest.raises(ImportRejected) as caught:
        await _import(db, school.school_id, data)
    assert [str(e) for e in caught.value.errors] == ["строка 3: guardian_of: нет человека «S-404»"]
    assert await _count(db, Person) == 0


async def test_not_utf8_and_unknown_columns_are_refused(
    db: Database, school: SchoolBuilder
) -> None:
    with pytest.raises(ImportRejected) as caught:
        await _import(db, school.school_id, GOOD.encode("cp1251"))
    assert "UTF-8" in caught.value.errors[0].message
    with pytest.raises(ImportRejected) as caught:
        await _import(db, school.school_id, b"external_id;last_name;first_name;roles;shoe_size\n")
    assert str(caught.value.errors[0]) == "строка 1: неизвестные столбцы: shoe_size"


async def test_without_manage_roles_privileged_roles_and_role_changes_are_refused(
    db: Database, school: SchoolBuilder
) -> None:
    data = (HEADER + "\nX-1;Хакеров;Иван;;sysadmin;;;;;\n").encode()
    with pytest.raises(ImportRejected) as caught:
        await _import(db, school.school_id, data, grant=False)
    assert caught.value.errors[0].line == 2
    await _import(db, school.school_id, GOOD.encode(), grant=False)
    promoted = GOOD.replace("Петровна;parent", "Петровна;parent teacher")
    with pytest.raises(ImportRejected):
        await _import(db, school.school_id, promoted.encode(), grant=False)
    async with db.session() as session:
        anna = await session.scalar(select(Person).where(Person.external_id == "P-001"))
        assert anna is not None and anna.roles == {Role.PARENT}


async def test_upload_form_reports_errors_and_imports_good_file(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.HR, login="kadry")
    await sign_in(client, "kadry")

    def form(text: str) -> FormData:
        data = FormData()
        data.add_field("csrf_token", csrf_token(client))
        data.add_field("file", text.encode(), filename="people.csv", content_type="text/csv")
        return data

    bad = GOOD.replace("S-002;Иванова;Мария;;ученик;2 б", "S-002;Иванова;Мария;;ученик;2 бб")
    response = await client.post("/admin/import", data=form(bad))
    assert response.status == 422
    page = await response.text()
    assert "Файл не импортирован" in page and "строка 3:" in page
    assert await _count(db, Person) == 1  # only the HR specialist

    response = await client.post("/admin/import", data=form(GOOD))
    assert response.status == 200
    assert "добавлено 4" in await response.text()
    assert await _count(db, Person) == 5


async def test_upload_arriving_in_two_parts_imports_every_row(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.HR, login="kadry")
    await sign_in(client, "kadry")
    body, content_type = browser_multipart(
        {"csrf_token": await ensure_csrf(client)}, {"file": ("people.csv", GOOD.encode())})
    status, page = await send_in_two_parts(client, "POST", "/admin/import", body,
                                           {"Content-Type": content_type})
    assert status == 200, page.decode()
    assert "добавлено 4" in page.decode()
    assert await _count(db, Person) == 5


async def test_a_parent_cannot_import(client: TestClient, school: SchoolBuilder) -> None:
    await school.person(Role.PARENT, login="mama")
    await sign_in(client, "mama")
    assert (await client.get("/admin/import")).status == 403


def test_cli_import_people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(GOOD, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli.main(["import", "people", str(csv_file)])
    assert exited.value.code == 0
    assert "4 created" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\nS-9;Петров;;;student;5А;;;;\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli.main(["import", "people", str(bad)])
    assert exited.value.code == 1
    assert "строка 2: пустое поле first_name" in capsys.readouterr().err
