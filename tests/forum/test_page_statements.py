"""How many SQL statements each signed-in page runs, once the identity and the badges are
in memory: a page that grows fails here, and the budget is raised only on purpose.

The statements are counted at the engine (every round trip to the database but BEGIN and
COMMIT), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event

from hub.config import Settings
from hub.db import Database
from tests.forum.conftest import Cast
from tests.forum.test_board import announce
from tests.forum.test_forum import new_topic, open_forum, reply, section_id
from tests.support.web import sign_in

# page -> the statements it may run (a warm request: identity and badges remembered)
BUDGET = {
    "/profile": 3,  # a parent: the children and their classes
    "/board": 1,  # the rows and marks; the list itself is remembered (hub.http.fragments)
    "/forum": 12,
    "section": 7,
    "topic": 1,  # the topic, marker, subscription and own marks; the posts are remembered
    # The topic and its followers, the post and its index, a follower told; no badge is
    # counted for a POST that redirects.
    "reply": 17,
    "/notifications": 2,
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No embedded delivery worker: its statements are not the page's."""
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    embedded_worker=False)


class Statements:
    def __init__(self, db: Database) -> None:
        self.seen: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.seen.append(statement)

    async def count(self, request: object) -> int:
        start = len(self.seen)
        response = await request  # type: ignore[misc]
        assert response.status in (200, 303), await response.text()
        return len(self.seen) - start


@pytest.fixture
async def pages(client: TestClient, cast: Cast, db: Database) -> dict[str, str]:
    await sign_in(client, "teacher5a")
    for number in range(3):
        await announce(client, title=f"Собрание {number}",
                       class_ids=str(cast.school.classes["5А"].id))
    await open_forum(client)  # the sections are made on the first visit
    section = await section_id(db, f"class:{cast.school.classes['5А'].id}")
    topic = await new_topic(client, section)
    await sign_in(client, "parent5a")
    for number in range(5):
        await reply(client, topic, f"Ответ {number}")
    return {"section": f"/forum/sections/{section}", "topic": f"/forum/topics/{topic}",
            "reply": f"/forum/topics/{topic}/reply"}


async def test_signed_in_pages_stay_within_their_statement_budget(
    client: TestClient, db: Database, pages: dict[str, str]
) -> None:
    statements = Statements(db)
    counted = {}
    for page in BUDGET:
        path = pages.get(page, page)
        if page == "reply":
            await reply(client, int(path.split("/")[3]), "Разогрев")
            counted[page] = await statements.count(reply(client, int(path.split("/")[3]),
                                                         "Спасибо, учту"))
        else:
            await client.get(path)  # warm: the identity and the badges
            counted[page] = await statements.count(client.get(path))
    over = {page: n for page, n in counted.items() if n > BUDGET[page]}
    assert not over, f"statements per page {counted}, over budget: {over}"


async def test_the_count_sees_identity_when_it_is_not_remembered(
    client: TestClient, db: Database, pages: dict[str, str]
) -> None:
    statements = Statements(db)
    await client.get("/profile")
    warm = await statements.count(client.get("/profile"))
    db.stamps.bump(["accounts"])  # as a write to the accounts would
    cold = await statements.count(client.get("/profile"))
    assert cold >= warm + 2  # the session with the account, the class scopes
