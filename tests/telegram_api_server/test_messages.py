"""sendMessage, edits and chat actions through the real aiogram client."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.support.telegram_api import FakeBotAPI


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "school_hub_bot")


async def test_sent_message_is_recorded_with_its_markup(api: FakeBotAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text="Прочитано", callback_data="ack:7")

    sent = await bot.send_message(
        1001, "Новая оценка: <b>5</b> по математике", parse_mode="HTML",
        reply_markup=keyboard.as_markup(),
    )  # fmt: skip

    [message] = api.messages(1001)
    assert message.message_id == sent.message_id == 1
    assert message.text == sent.text == "Новая оценка: 5 по математике"
    assert message.raw_text == "Новая оценка: <b>5</b> по математике"
    assert message.parse_mode == "HTML"
    assert message.entities == [{"type": "bold", "offset": 14, "length": 1}]
    assert message.reply_markup == {
        "inline_keyboard": [[{"text": "Прочитано", "callback_data": "ack:7"}]]
    }
    assert message.date == int(sent.date.timestamp())
    assert sent.from_user is not None and sent.from_user.is_bot
    assert api.stats.sent == 1 and api.stats.chat(1001).sent == 1


async def test_html_entities_are_measured_in_utf16(api: FakeBotAPI, bot: Bot) -> None:
    html = (
        '😀 <a href="https://school.example/5a">5А</a> &lt;&amp;&gt; '
        '<pre><code class="language-python">x</code></pre> <tg-spoiler>s</tg-spoiler>'
    )

    sent = await bot.send_message(1001, html, parse_mode="HTML")

    assert sent.text == "😀 5А <&> x s"
    assert [e.model_dump(exclude_none=True) for e in sent.entities or []] == [
        {"type": "text_link", "offset": 3, "length": 2, "url": "https://school.example/5a"},
        {"type": "pre", "offset": 10, "length": 1, "language": "python"},
        {"type": "spoiler", "offset": 12, "length": 1},
    ]


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("оценка < 3", "Unclosed start tag at byte offset 13"),
        ("1 < 2 > 0", 'Unsupported start tag "" at byte offset 2'),
    ],
)
async def test_bad_html_is_refused(api: FakeBotAPI, bot: Bot, html: str, detail: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1001, html, parse_mode="HTML")

    assert caught.value.message == f"Bad Request: can't parse entities: {detail}"
    assert api.messages(1001) == []


async def test_too_long_text_and_unknown_chat_are_bad_requests(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1001, "я" * 4097)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999, "привет")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(1001, "<b> </b>", parse_mode="HTML")

    await bot.send_message(1001, "<b>я</b>" + "я" * 4095, parse_mode="HTML")  # 4096 after parse
    assert api.stats.sent == 1


async def test_blocked_deactivated_and_never_started_users(api: FakeBotAPI, bot: Bot) -> None:
    api.block(1001)
    api.chat(1002).deactivated = True
    api.chat(1003, started=False)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1001, "оценка")
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_message(1002, "оценка")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(1003, "оценка")

    api.unblock(1001)
    await bot.send_message("@anna_parent", "оценка")
    assert [m.text for m in api.messages(1001)] == ["оценка"]
    assert api.stats.sent == 1


async def test_edit_text_and_markup(api: FakeBotAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text="Да", callback_data="yes")
    sent = await bot.send_message(1001, "Придёте?", reply_markup=keyboard.as_markup())

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Придёте?", chat_id=1001, message_id=sent.message_id,
            reply_markup=keyboard.as_markup(),
        )  # fmt: skip
    edited = await bot.edit_message_text(
        text="Ответ: <i>да</i>", chat_id=1001, message_id=sent.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool) and edited.edit_date is not None

    [message] = api.messages(1001)
    assert (message.text, message.reply_markup, message.edits) == ("Ответ: да", None, 1)
    await bot.edit_message_reply_markup(
        chat_id=1001, message_id=sent.message_id, reply_markup=keyboard.as_markup()
    )
    assert message.reply_markup is not None and message.edits == 2
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=1001, message_id=42)


async def test_callback_data_over_64_bytes_is_refused(bot: Bot) -> None:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text="x", callback_data="я" * 33)

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1001, "x", reply_markup=keyboard.as_markup())


async def test_chat_action(api: FakeBotAPI, bot: Bot) -> None:
    assert await bot.send_chat_action(1001, "typing")
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(1001, "dancing")
    assert api.chat_actions == [(1001, "typing")]


async def test_wrong_token_and_unknown_method(api: FakeBotAPI) -> None:
    with pytest.raises(TelegramUnauthorizedError):
        await api.bot(token="654321:WRONG").get_me()

    async with aiohttp.ClientSession() as http:
        url = f"{api.base_url}/bot{api.token}/sendHologram"
        async with http.post(url, json={"chat_id": 1001}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False, "error_code": 404, "description": "Not Found"
            }  # fmt: skip
        # plain JSON and query-string calls work too, method names are case-insensitive
        url = f"{api.base_url}/bot{api.token}/sendmessage"
        async with http.get(url, params={"chat_id": "1001", "text": "привет"}) as response:
            body = await response.json()
    assert body["ok"] and body["result"]["text"] == "привет"
