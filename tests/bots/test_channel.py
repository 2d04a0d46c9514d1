"""The Telegram channel against the fake Bot API: HTML escaping, splitting long messages,
429 handling, 403 and "chat not found" (address disabled, fallback to e-mail), network
errors and 5xx, and spreading a burst under the limits."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bots.channel import TelegramChannel, render
from bots.splitting import MESSAGE_LIMIT, split_html
from hub.db import Database
from hub.notify.addresses import addresses_of, set_address
from hub.notify.channel import (
    ChannelName,
    Envelope,
    Item,
    NotificationKind,
    PermanentFailure,
    TemporaryFailure,
)
from hub.ratelimit import InProcessLimiter, Rate
from tests.support.school import SchoolBuilder
from tests.support.telegram_api import FakeBotAPI, parse_html

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def envelope(chat_id: int, person_id: int = 1, *, title: str = "Оценка 5 по математике",
             body: str = "02.03.2026, Математика: 5", items: int = 1,
             digest: bool = False) -> Envelope:
    item = Item(kind=NotificationKind.GRADES, title=title, body=body,
                url="http://hub.test/children?x=1&y=2", created_at=NOW, child_name="Маша")
    return Envelope(delivery_id=1, person_id=person_id, recipient_name="Анна",
                    address=str(chat_id), items=(item,) * items, digest=digest)


def channel(api: FakeBotAPI, db: Database, **kwargs: object) -> TelegramChannel:
    limiter = kwargs.pop("limiter", None) or InProcessLimiter()
    return TelegramChannel(api.bot(), db, limiter, owns_bot=False, **kwargs)  # type: ignore[arg-type]


async def test_sends_html_with_user_text_escaped(api: FakeBotAPI, sqlite_db: Database) -> None:
    api.chat(10)
    sent = await channel(api, sqlite_db).send(envelope(
        10, title="Оценка <5> & «тест»", body="Комментарий: <script>alert(1)</script>"
    ))
    [message] = api.messages(10)
    assert sent.startswith("10:")
    assert message.parse_mode == "HTML"
    assert "Оценка <5> & «тест»" in message.text
    assert "<script>alert(1)</script>" in message.text
    assert "Маша" in message.text
    assert {"type": "bold", "offset": 0, "length": len("Оценка <5> & «тест»")} in message.entities
    link = next(e for e in message.entities if e["type"] == "text_link")
    assert link["url"] == "http://hub.test/children?x=1&y=2"


async def test_a_long_message_is_split_on_paragraphs(
    api: FakeBotAPI, sqlite_db: Database
) -> None:
    api.chat(11)
    digest = envelope(11, body="Слово " * 150 + "<конец>", items=12, digest=True)
    sent = await channel(api, sqlite_db).send(digest)
    messages = api.messages(11)
    assert len(messages) >= 3 and len(sent.split(":")[1].split(",")) == len(messages)
    assert all(len(m.text) <= MESSAGE_LIMIT for m in messages)
    joined = "\n\n".join(m.text for m in messages)
    assert joined.count("Оценка 5 по математике") == 12  # no item lost or cut in two
    assert joined.count("<конец>") == 12


def test_split_cuts_an_overlong_line_between_words_keeping_tags_balanced() -> None:
    html = "<b>" + "очень длинное слово " * 600 + "</b>\n" + "&amp;" * 10
    pieces = split_html(html, limit=1000)
    assert len(pieces) > 5
    texts = [parse_html(piece)[0] for piece in pieces]  # each piece parses on its own
    assert all(len(p) <= 1000 for p in pieces)
    assert all(not t.startswith(" ") or t.strip() for t in texts)
    assert "".join(t.replace(" ", "") for t in texts).count("&") == 10
    assert all(piece.startswith("<b>") for piece in pieces[:5])


async def test_429_becomes_a_temporary_failure_with_retry_after(
    api: FakeBotAPI, sqlite_db: Database
) -> None:
    api.chat(12)
    api.fail_next(status=429, retry_after=7, method="sendMessage")
    with pytest.raises(TemporaryFailure) as failure:
        await channel(api, sqlite_db).send(envelope(12))
    assert failure.value.retry_after == 7
    assert api.messages(12) == []


@pytest.mark.parametrize("kind", ["blocked", "chat not found"])
async def test_blocked_or_unknown_chat_disables_the_address_and_falls_back_to_email(
    api: FakeBotAPI, db: Database, school: SchoolBuilder, kind: str
) -> None:
    parent = await school.person(email="anna@example.test")
    async with db.transaction() as session:
        await set_address(session, parent.id, ChannelName.TELEGRAM, "13")
    if kind == "blocked":
        api.chat(13)
        api.block(13)
    with pytest.raises(PermanentFailure) as failure:
        await channel(api, db).send(envelope(13, parent.id))
    assert failure.value.fallback_to_email
    async with db.session() as session:
        addresses = (await addresses_of(session, [parent.id]))[parent.id]
    assert ChannelName.TELEGRAM not in addresses
    assert addresses[ChannelName.EMAIL] == "anna@example.test"


async def test_a_stale_address_is_not_disabled_when_the_person_moved_to_another_chat(
    api: FakeBotAPI, db: Database, school: SchoolBuilder
) -> None:
    parent = await school.person()
    async with db.transaction() as session:
        await set_address(session, parent.id, ChannelName.TELEGRAM, "15")
    api.chat(14)
    api.block(14)
    with pytest.raises(PermanentFailure):
        await channel(api, db).send(envelope(14, parent.id))  # sent before the move
    async with db.session() as session:
        addresses = (await addresses_of(session, [parent.id]))[parent.id]
    assert addresses[ChannelName.TELEGRAM] == "15"


@pytest.mark.parametrize("fault", [{"status": 502}, {"status": 500}, {"drop": True}])
async def test_network_errors_and_5xx_are_temporary(
    api: FakeBotAPI, sqlite_db: Database, fault: dict[str, object]
) -> None:
    api.chat(16)
    api.fail_next(method="sendMessage", **fault)  # type: ignore[arg-type]
    tg = channel(api, sqlite_db)
    with pytest.raises(TemporaryFailure) as failure:
        await tg.send(envelope(16))
    assert failure.value.retry_after is None  # the pipeline's backoff decides
    await tg.send(envelope(16))  # and the retry goes through
    assert len(api.messages(16)) == 1


async def test_a_failed_first_piece_hands_back_and_sends_nothing(
    api: FakeBotAPI, sqlite_db: Database
) -> None:
    api.chat(17)
    tg = channel(api, sqlite_db)
    digest = envelope(17, body="Слово " * 150, items=8, digest=True)
    pieces = len(split_html(render(digest)))
    assert pieces >= 2
    api.fail_next(method="sendMessage")
    with pytest.raises(TemporaryFailure):
        await tg.send(digest)
    assert api.messages(17) == []
    await tg.send(digest)
    assert len(api.messages(17)) == pieces


async def test_a_later_piece_waits_out_a_429_instead_of_resending_the_first(
    api: FakeBotAPI, sqlite_db: Database
) -> None:
    api.chat(19)
    digest = envelope(19, body="Слово " * 150, items=8, digest=True)
    expected = [parse_html(piece)[0] for piece in split_html(render(digest))]
    sending = asyncio.create_task(channel(api, sqlite_db).send(digest))
    await api.wait_for_messages(19, 1)  # the next piece waits for the chat's next slot
    api.fail_next(status=429, retry_after=1, method="sendMessage")
    await sending
    assert api.stats.faults == 1
    assert [m.text for m in api.messages(19)] == expected  # each piece once, in order


async def test_a_burst_is_spread_under_the_limits_not_refused(sqlite_db: Database) -> None:
    """120 messages to 40 chats, 3 each, from four senders of two channels sharing one
    limiter, against a server enforcing 30/s per bot and 1/s per chat: every message
    arrives, no 429."""
    async with FakeBotAPI(token="123456:TEST") as api:
        for chat_id in range(100, 140):
            api.chat(chat_id)
        limiter = InProcessLimiter()
        # A little under the defaults: this asserts the spreading, not the margin (the
        # bench measures that), and must not fail on a busy machine.
        senders = [channel(api, sqlite_db, limiter=limiter, bot_rate=Rate(25, 1.0))
                   for _ in range(2)]
        work = [envelope(chat_id) for _ in range(3) for chat_id in range(100, 140)]

        async def run(tg: TelegramChannel, part: list[Envelope]) -> None:
            for item in part:
                await tg.send(item)

        await asyncio.gather(*(
            run(tg, work[i::4]) for i, tg in enumerate(senders * 2)
        ))
        assert api.stats.sent == 120
        assert api.stats.rejected_429 == 0
        assert all(api.stats.chat(c).sent == 3 for c in range(100, 140))


async def test_a_slot_too_far_away_hands_the_delivery_back(
    api: FakeBotAPI, sqlite_db: Database
) -> None:
    api.chat(18)
    tg = channel(api, sqlite_db, chat_rate=Rate(1, 60.0), max_wait=0.5)
    await tg.send(envelope(18))
    with pytest.raises(TemporaryFailure) as failure:
        await tg.send(envelope(18))
    assert failure.value.retry_after is not None and failure.value.retry_after > 50
    assert len(api.messages(18)) == 1
