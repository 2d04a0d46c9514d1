"""`hub demo`: the demo school loads once, quickly, and its printed sign-ins work."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub import cli
from hub.auth.models import Account
from hub.compose import database
from hub.db import Database
from hub.demo import load_demo
from hub.school import Enrolment, Person, SchoolClass
from tests.support.web import sign_in


async def test_demo_school_has_classes_students_parents_and_staff(
    db: Database, client: TestClient
) -> None:
    async with db.transaction() as session:
        result = await load_demo(session)
    assert result.created
    async with db.session() as session:
        classes = await session.scalar(select(func.count()).select_from(SchoolClass))
        students = await session.scalar(select(func.count()).select_from(Enrolment))
        people = await session.scalar(select(func.count()).select_from(Person))
    assert classes == 12 and 280 <= (students or 0) <= 320 and (people or 0) > 600

    # Every printed sign-in works and lands where the role belongs.
    for demo in result.sign_ins:
        await sign_in(client, demo.login, demo.password)
        profile = await client.get("/profile", allow_redirects=False)
        assert profile.status == 200, demo.who
    parent_5a = next(s for s in result.sign_ins if s.who == "родитель ученика 5А")
    await sign_in(client, parent_5a.login, parent_5a.password)
    assert "5А" in await (await client.get("/profile")).text()

    # The administrator finds the school's people and classes.
    admin = result.sign_ins[0]
    await sign_in(client, admin.login, admin.password)
    page = await client.get("/admin/people?q=" + parent_5a.login.split(".")[0][:4])
    assert page.status == 200
    async with db.session() as session:
        class_5a = await session.scalar(select(SchoolClass).where(SchoolClass.name == "5А"))
        teacher = await session.scalar(
            select(Account.person_id).where(Account.login == result.sign_ins[3].login))
    assert class_5a is not None
    page = await client.get(f"/admin/classes/{class_5a.id}")
    assert page.status == 200 and (await page.text()).count("<tr>") >= 25
    assert (await client.get(f"/admin/people/{teacher}")).status == 200

    async with db.transaction() as session:
        again = await load_demo(session)
    assert not again.created and again.sign_ins == result.sign_ins
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == people


def test_hub_demo_prints_the_url_and_sign_ins_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HUB_PUBLIC_URL", "http://school.example:8080")
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo"])
    assert exited.value.code == 0
    first = capsys.readouterr().out
    assert "http://school.example:8080" in first and "создана" in first
    admin = re.search(r"системный администратор\s+(\S+)\s+(\S+)", first)
    assert admin is not None and admin.group(1) == "admin"

    with pytest.raises(SystemExit):
        cli.main(["demo"])
    second = capsys.readouterr().out
    assert "ничего не изменено" in second
    assert second.split("Адрес:")[1] == first.split("Адрес:")[1]

    async def accounts() -> int:
        db = database(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'hub.db'}")
        try:
            async with db.session() as session:
                return await session.scalar(select(func.count()).select_from(Account)) or 0
        finally:
            await db.dispose()

    assert asyncio.run(accounts()) > 100
