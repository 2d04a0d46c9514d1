"""An account issued by invitation to a person with an e-mail address is e-mailed to them
with their login; the invitation page and the profile show the login too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from hub.config import Settings
from hub.db import Database
from hub.school import Person, Role
from tests.support.school import SchoolBuilder
from tests.support.smtp import SmtpSink, smtp_sink  # noqa: F401
from tests.support.web import post_form, sign_in


@pytest.fixture
def settings(tmp_path: Path, smtp_sink: SmtpSink) -> Settings:  # noqa: F811
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    **smtp_sink.settings())


async def test_invitation_is_emailed_with_the_login(
    client: TestClient, school: SchoolBuilder, db: Database,
    smtp_sink: SmtpSink,  # noqa: F811
) -> None:
    await school.person(Role.SYSADMIN, login="admin", last_name="Админов")
    await sign_in(client, "admin")
    person = await school.person(Role.PARENT, last_name="Петрова", first_name="Милана",
                                 email="milana@example.test")
    async with db.transaction() as session:
        await session.execute(update(Person).where(Person.id == person.id)
                              .values(middle_name="Константиновна"))
    response = await post_form(client, f"/admin/people/{person.id}/account",
                               {"login": "petrova.m", "mode": "invite"})
    assert response.status == 200
    assert "отправлено на milana@example.test" in await response.text()

    [letter] = await smtp_sink.wait_for(1)
    assert letter.to == ["milana@example.test"]
    assert "Здравствуйте, Милана Константиновна!" in letter.text
    assert "Ваш логин: petrova.m" in letter.text
    link = re.search(r"/invite/([\w-]+)", letter.text)
    assert link is not None

    client.session.cookie_jar.clear()
    page = await (await client.get(f"/invite/{link.group(1)}")).text()
    assert "petrova.m" in page and 'autocomplete="username"' in page
