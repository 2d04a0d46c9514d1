"""The gate before saving: the detector, the school's watched words (changed in the UI,
effective at once), and mutes."""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient

from hub import clock
from hub.db import Database
from moderation import watched
from moderation.screening import screen
from tests.moderation.conftest import Cast, held
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def _screen(db: Database, school_id: int, author_id: int, text: str, title: str = ""):
    async with db.session() as session:
        return await screen(session, school_id=school_id, author_id=author_id, title=title,
                            text=text)


async def test_clean_text_is_allowed_and_abuse_is_held(
    db: Database, school: SchoolBuilder, cast: Cast
) -> None:
    clean = await _screen(db, school.school_id, cast.parent.id, "Экскурсия в пятницу")
    assert (clean.action, clean.text) == ("allow", "Экскурсия в пятницу")
    rude = await _screen(db, school.school_id, cast.parent.id, "Учитель тупой")
    assert rude.action == "hold" and rude.verdict is not None
    assert [r.matched for r in rude.verdict.reasons] == ["тупой"]


async def test_watched_words_from_the_page_take_effect_at_once(
    client: TestClient, db: Database, school: SchoolBuilder, cast: Cast
) -> None:
    text = "Опять эта контрольная по физике"
    assert (await _screen(db, school.school_id, cast.parent.id, text)).action == "allow"
    await sign_in(client, "admin")
    response = await post_form(client, "/moderation/words",
                               {"pattern": "контрольн*", "action": "refuse"})
    assert response.status == 303
    refused = await _screen(db, school.school_id, cast.parent.id, text)
    assert refused.action == "refuse"
    assert "контрольная" in refused.message
    # The test box on the page shows what a text would do.
    page = await (await client.get("/moderation/words", params={"sample": text})).text()
    assert "будет отклонено" in page and '<mark class="flag"' in page
    # Changed to "mask": stored with the word masked.
    word = (await _words(db, school.school_id))[0]
    assert (await post_form(client, f"/moderation/words/{word.id}/delete")).status == 303
    await post_form(client, "/moderation/words", {"pattern": "физик?", "action": "mask"})
    masked = await _screen(db, school.school_id, cast.parent.id, text)
    assert masked.action == "allow"
    assert "физике" not in masked.text and masked.text.startswith("Опять эта контрольная по ф")


async def _words(db: Database, school_id: int):
    async with db.session() as session:
        return await watched.list_words(session, school_id)


async def test_watched_word_change_reaches_an_instance_with_a_warm_cache(
    db: Database, school: SchoolBuilder, cast: Cast
) -> None:
    # This process's detector is built and cached; another instance then changes the list
    # (here: a plain transaction, as another process would write it).
    assert (await _screen(db, school.school_id, cast.parent.id, "про ЕГЭ")).action == "allow"
    async with db.transaction() as session:
        await watched.add_word(session, school_id=school.school_id, pattern="егэ",
                               action="hold", created_by=cast.sysadmin.id)
    assert (await _screen(db, school.school_id, cast.parent.id, "про ЕГЭ")).action == "hold"


async def test_bad_watched_words_are_refused(
    client: TestClient, db: Database, school: SchoolBuilder, cast: Cast
) -> None:
    await sign_in(client, "admin")
    for pattern, action, message in [
        ("", "hold", "Введите слово"),
        ("**", "hold", "хотя бы две буквы"),
        ("<script>", "hold", "допустимы буквы"),
        ("дурак", "delete-all", "Выберите действие"),
    ]:
        response = await post_form(client, "/moderation/words",
                                   {"pattern": pattern, "action": action})
        assert response.status == 422, pattern
        assert message in await response.text()
    await post_form(client, "/moderation/words", {"pattern": "дурак", "action": "hold"})
    response = await post_form(client, "/moderation/words", {"pattern": "ДУРАК", "action": "mask"})
    assert response.status == 422 and "уже есть" in await response.text()
    assert [w.pattern for w in await _words(db, school.school_id)] == ["дурак"]
    await sign_in(client, "parent1")
    assert (await client.get("/moderation/words")).status == 403
    response = await post_form(client, "/moderation/words", {"pattern": "мир", "action": "hold"})
    assert response.status == 403
    assert len(await _words(db, school.school_id)) == 1


async def test_muted_author_is_refused_with_the_end_date(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    before = clock.now()
    response = await post_form(client, f"/moderation/items/{item_id}/mute",
                               {"hours": "24", "reason": "Оскорбления"})
    assert response.status == 303
    result = await _screen(db, school.school_id, cast.parent.id, "Добрый день")
    assert result.action == "refuse" and result.muted_until is not None
    assert dt.timedelta(hours=23) < result.muted_until - before < dt.timedelta(hours=25)
    local = result.muted_until.astimezone(dt.timezone(dt.timedelta(hours=3)))
    assert result.message == f"Вы не можете писать до {local:%d.%m.%Y %H:%M}."
    # Another parent is not affected; a bad duration changes nothing.
    assert (await _screen(db, school.school_id, cast.parent2.id, "Добрый день")).action == "allow"
    response = await post_form(client, f"/moderation/items/{item_id}/mute",
                               {"hours": "100000", "reason": "x"})
    assert response.status == 422
    # Lifting the mute lets the author write again.
    assert (await post_form(client, f"/moderation/items/{item_id}/unmute")).status == 303
    assert (await _screen(db, school.school_id, cast.parent.id, "Добрый день")).action == "allow"
