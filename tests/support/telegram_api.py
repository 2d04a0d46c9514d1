"""A fake Telegram Bot API server on loopback, for tests and benchmarks.

Telegram is unreachable from the build machines, so the bot and the Telegram channel are
exercised against this server instead. It speaks the Bot API's HTTP protocol (the URL
layout ``{base}/bot{token}/{method}``, form, multipart, JSON or query parameters, the
``{"ok": ..., "result" | "error_code", "description", "parameters"}`` envelope) so the real
aiogram client talks to it unchanged::

    async with FakeBotAPI(token="123456:TEST") as api:
        api.chat(1001)
        bot = api.bot()  # or Bot(api.token, session=AiohttpSession(api=api.telegram_server()))
        await bot.send_message(1001, "<b>Оценка</b>: 5", parse_mode="HTML")
        assert api.messages(1001)[0].text == "Оценка: 5"

Rate limits: every delivered message must pass a *sliding-window log* limiter per bot
(default 30 in any 1 s), per chat (default 1 in any 1 s) and, for groups and channels,
per group (default 20 in any 60 s). A window of ``per`` seconds
admits at most ``count`` messages, so ``RateLimit(1, 1.0)`` is strict and
``RateLimit(3, 3.0)`` is the same sustained rate with a burst allowance of 3. A message
over a limit is not delivered and gets 429 with an integer ``retry_after`` (the seconds,
rounded up, until the oldest message in the full window leaves it). Time is the server's
``clock`` (``time.monotonic`` unless injected).

Updates: ``send_user_message`` and ``press_button`` feed an Update to the webhook if one is
set (POST, JSON, ``X-Telegram-Bot-Api-Secret-Token``; a method in the webhook's answer is
executed), else queue it for ``getUpdates``. A failed webhook delivery stays pending until
``flush_webhook()``. ``fail_next()`` makes requests fail on purpose (an HTTP error or a
dropped connection). ``stats`` counts deliveries and 429s and keeps arrival times.

Only loopback is served; webhooks may be plain ``http://`` (Telegram requires HTTPS).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientError, ClientSession, ClientTimeout, MultipartReader, web
from yarl import URL

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# Update types Telegram sends when allowed_updates is empty or was never given.
NOT_SENT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# --------------------------------------------------------------------------- rate limits


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` messages in any window of ``per`` seconds."""

    count: int
    per: float = 1.0


class SlidingWindowLimiter:
    """A sliding-window log: remembers when each admitted event happened, per key."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._log: dict[Hashable, deque[float]] = {}

    def wait_time(self, key: Hashable, now: float) -> float:
        """Seconds until ``key`` may have one more event (0.0 when it may now)."""
        log = self._log.get(key)
        if not log:
            return 0.0
        while log and log[0] <= now - self.limit.per:
            log.popleft()
        if len(log) < self.limit.count:
            return 0.0
        return log[0] + self.limit.per - now

    def record(self, key: Hashable, now: float) -> None:
        self._log.setdefault(key, deque()).append(now)


# --------------------------------------------------------------------------- HTML entities

_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")
_ATTR_RE = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_ENTITY = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip


class EntityParseError(ValueError):
    pass


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities, or EntityParseError."""
    out: list[str] = []
    offset = 0  # UTF-16 offset of the next output character
    stack: list[tuple[str, int, dict[str, Any] | None]] = []
    entities: list[dict[str, Any]] = []
    i = 0

    def at(pos: int) -> str:
        return f"at byte offset {len(source[:pos].encode())}"

    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i)
            if end < 0:
                raise EntityParseError(f"Unclosed start tag {at(i)}")
            match = _TAG_RE.fullmatch(source, i, end + 1)
            if match is None:
                name = re.split(r"[\s>]", source[i + 1 : end + 1], maxsplit=1)[0]
                raise EntityParseError(f'Unsupported start tag "{name}" {at(i)}')
            closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3) or ""
            if closing:
                if not stack:
                    raise EntityParseError(f"Unexpected end tag {at(i)}")
                open_name, start, entity = stack.pop()
                if open_name != name:
                    raise EntityParseError(
                        f'Unmatched end tag {at(i)}, expected "</{open_name}>", found "</{name}>"'
                    )
                if entity is not None and offset > start:
                    entities.append({**entity, "offset": start, "length": offset - start})
            else:
                if name not in _TAG_ENTITY:
                    raise EntityParseError(f'Unsupported start tag "{name}" {at(i)}')
                stack.append((name, offset, _tag_entity(name, attrs, stack)))
            i = end + 1
            continue
        if char == "&" and (ref := _CHAR_REF_RE.match(source, i)) is not None:
            decoded = _decode_char_ref(ref.group(1))
            if decoded is not None:
                char, i = decoded, ref.end()
            else:
                i += 1
        else:
            i += 1
        out.append(char)
        offset += utf16_len(char)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _decode_refs(value: str) -> str:
    return _CHAR_REF_RE.sub(lambda m: _decode_char_ref(m.group(1)) or m.group(0), value)


def _decode_char_ref(ref: str) -> str | None:
    if not ref.startswith("#"):
        return _NAMED_REFS.get(ref)
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code <= 0x10FFFF else None


def _tag_entity(
    name: str, raw_attrs: str, stack: list[tuple[str, int, dict[str, Any] | None]]
) -> dict[str, Any] | None:
    # Character references are decoded in attribute values too (href="...?a=1&amp;b=2").
    attrs = {m.group(1).lower(): _decode_refs(next((g for g in m.groups()[1:] if g), ""))
             for m in _ATTR_RE.finditer(raw_attrs)}  # fmt: skip
    kind = _TAG_ENTITY[name]
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        href = attrs.get("href")
        if not href:
            return None
        if href.startswith("tg://user?id="):
            return {"type": "text_mention", "user": {"id": int(href.split("=", 1)[1])}}
        return {"type": kind, "url": href}
    if name == "tg-emoji":
        return {"type": kind, "custom_emoji_id": attrs.get("emoji-id", "")}
    if name == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    if name == "code" and stack and stack[-1][0] == "pre" and stack[-1][2] is not None:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
            return None
    return {"type": kind}


# --------------------------------------------------------------------------- records


@dataclass
class FakeChat:
    """A chat the server knows. For a private chat the user's id is the chat id."""

    id: int
    type: str = "private"
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    title: str | None = None
    started: bool = True  # a private chat's user has pressed /start at some point
    blocked: bool = False
    deactivated: bool = False
    last_message_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        fields = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "title": self.title,
        }
        return {"id": self.id, "type": self.type} | {k: v for k, v in fields.items() if v}

    def user_dict(self) -> dict[str, Any]:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name or "User"}
        optional = {"last_name": self.last_name, "username": self.username}
        return user | {k: v for k, v in optional.items() if v} | {"language_code": "ru"}


@dataclass
class SentMessage:
    """A message in a chat: sent by the bot, or by a user via ``send_user_message``."""

    chat: FakeChat
    message_id: int
    text: str  # after entity parsing, as the user sees it
    raw_text: str  # as the bot sent it
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int  # unix time, as Telegram reports it
    arrived_at: float  # server clock when it was accepted
    sender: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)  # every decoded request parameter
    edit_date: int | None = None
    edits: int = 0

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def from_bot(self) -> bool:
        return bool(self.sender.get("is_bot"))

    def to_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_dict(),
            "date": self.date,
            "text": self.text,
        }
        if self.entities:
            message["entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        return message


@dataclass
class ChatStats:
    sent: int = 0
    rejected_429: int = 0


@dataclass
class Stats:
    """Counters for tests and benchmarks. Times are the server clock."""

    sent: int = 0
    rejected_429: int = 0
    faults: int = 0  # answers forced by fail_next
    per_chat: dict[int, ChatStats] = field(default_factory=dict)
    arrivals: list[float] = field(default_factory=list)  # one per delivered message
    requests: Counter[str] = field(default_factory=Counter)  # by method name as sent

    def chat(self, chat_id: int) -> ChatStats:
        return self.per_chat.setdefault(chat_id, ChatStats())

    @property
    def first_arrival(self) -> float | None:
        return self.arrivals[0] if self.arrivals else None

    @property
    def last_arrival(self) -> float | None:
        return self.arrivals[-1] if self.arrivals else None

    def sustained_rate(self) -> float:
        """Delivered messages per second between the first and the last arrival."""
        if len(self.arrivals) < 2 or self.arrivals[-1] == self.arrivals[0]:
            return 0.0
        return (len(self.arrivals) - 1) / (self.arrivals[-1] - self.arrivals[0])


@dataclass
class RecordedRequest:
    method: str
    params: dict[str, Any]
    status: int
    at: float
    via_webhook_reply: bool = False


@dataclass
class Fault:
    status: int
    description: str | None
    drop: bool
    retry_after: int | None
    method: str | None


@dataclass
class WebhookDelivery:
    update: dict[str, Any]
    status: int | None  # None when the connection failed
    error: str | None
    reply_method: str | None = None  # a method the webhook answered with, executed by us
    reply_result: Any = None


class _Params:
    """Request parameters: strings from forms and queries, or typed values from JSON."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        return self.raw.get(name) in (True, "true", "True", "1", 1)

    def json(self, name: str, what: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what} JSON object") from None


class _LoopbackSession(AiohttpSession):
    """aiogram's session without its 250 ms pause on close (meant for TLS; loopback is plain)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


_Handler = Callable[[_Params], Awaitable[Any]]


# --------------------------------------------------------------------------- the server


class FakeBotAPI:
    """One bot's Bot API on 127.0.0.1, an ephemeral port. See the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        username: str = "school_hub_bot",
        first_name: str = "School Hub",
        bot_limit: RateLimit = RateLimit(30, 1.0),
        chat_limit: RateLimit = RateLimit(1, 1.0),
        group_limit: RateLimit | None = RateLimit(20, 60.0),
        clock: Callable[[], float] = time.monotonic,
        webhook_timeout: float = 5.0,
    ) -> None:
        self.token = token
        self.username = username
        self.first_name = first_name
        self.bot_id = int(token.split(":", 1)[0])
        self.clock = clock
        self.webhook_timeout = webhook_timeout
        self.stats = Stats()
        self.requests: list[RecordedRequest] = []
        self.sent: list[SentMessage] = []  # every message the bot delivered, in order
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.dropped_updates: list[dict[str, Any]] = []  # not in allowed_updates
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope, lang)
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.allowed_updates: list[str] = []
        self.pending_updates: list[dict[str, Any]] = []
        self._chats: dict[int, FakeChat] = {}
        self._history: dict[int, list[SentMessage]] = {}  # chat id -> every message
        self._limiters = [
            (SlidingWindowLimiter(bot_limit), lambda chat: "bot"),
            (SlidingWindowLimiter(chat_limit), lambda chat: chat.id),
        ]
        self._group_limiter = SlidingWindowLimiter(group_limit) if group_limit else None
        self._faults: list[Fault] = []
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._webhook_error: tuple[int, str] | None = None
        self._update_id = 0
        self._poller: object | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._bots: list[Bot] = []
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self.port = 0
        self._methods: dict[str, _Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getUpdates": self._get_updates,
            }.items()
        }

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._client = ClientSession()
        return self

    async def close(self) -> None:
        self._closing = True
        self._notify()  # long polls answer now instead of holding up the shutdown
        for bot in self._bots:
            await bot.session.close()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def telegram_server(self) -> TelegramAPIServer:
        return TelegramAPIServer.from_base(self.base_url)

    def bot(self, token: str | None = None, **kwargs: Any) -> Bot:
        """A real aiogram Bot wired to this server; its session is closed with the server."""
        session = _LoopbackSession(api=self.telegram_server())
        bot = Bot(token or self.token, session=session, **kwargs)
        self._bots.append(bot)
        return bot

    # ---------------------------------------------------------------- the world

    def chat(self, chat_id: int, *, type: str = "private", **details: Any) -> FakeChat:
        """The chat ``chat_id``, created on first use (first_name, username, title, started)."""
        if chat_id not in self._chats:
            if type == "private":
                details.setdefault("first_name", f"User{chat_id}")
            else:
                details.setdefault("title", f"Chat {chat_id}")
            self._chats[chat_id] = FakeChat(id=chat_id, type=type, **details)
        return self._chats[chat_id]

    def block(self, chat_id: int) -> None:
        """The user blocked the bot (or, for a group, removed it)."""
        self._chats[chat_id].blocked = True

    def unblock(self, chat_id: int) -> None:
        self._chats[chat_id].blocked = False

    def deactivate(self, chat_id: int) -> None:
        """The user deleted their account."""
        self._chats[chat_id].deactivated = True

    def messages(self, chat_id: int) -> list[SentMessage]:
        """What the bot delivered to ``chat_id``, oldest first (edits applied in place)."""
        return [m for m in self._history.get(chat_id, []) if m.from_bot]

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 502,
        description: str | None = None,
        drop: bool = False,
        retry_after: int | None = None,
        method: str | None = None,
    ) -> None:
        """Make the next ``count`` requests (of ``method``, if given) fail.

        With ``drop`` the connection is closed without an answer (a network error for the
        client); otherwise the answer is ``status`` with a Bot API error body.
        """
        fault = Fault(status, description, drop, retry_after, method and method.lower())
        self._faults.extend([fault] * count)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper must never hang the suite
    ) -> None:
        """Wait until ``predicate()`` holds; it is checked after every change on the server."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see wait_until
    ) -> list[SentMessage]:
        await self.wait_until(lambda: len(self.messages(chat_id)) >= count, timeout)
        return self.messages(chat_id)

    async def send_user_message(
        self,
        chat_id: int,
        text: str,
        from_user: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` in the chat; returns the Update that was fed to the bot."""
        chat = self._chats[chat_id]
        if from_user is None:
            if chat.type != "private":
                raise ValueError("from_user is required outside private chats")
            from_user = chat.user_dict()
        if chat.type == "private":  # writing to a bot unblocks and starts it
            chat.blocked = False
            chat.started = True
        message = self._add_message(chat, text, [], None, sender=from_user)
        if command := re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text):
            message.entities = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return await self._feed({"message": message.to_dict()})

    async def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        from_user: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user presses the inline button with ``data`` under one of the bot's messages."""
        chat = self._chats[chat_id]
        message = self._find_message(chat_id, message_id)
        markup = (message.reply_markup if message else None) or {}
        rows = markup.get("inline_keyboard", [])
        if message is None or not any(b.get("callback_data") == data for r in rows for b in r):
            raise ValueError(f"no button with callback_data={data!r} on message {message_id}")
        query_id = f"{self.bot_id}{len(self._callback_queries) + 1:08d}"
        self._callback_queries[query_id] = False
        query = {
            "id": query_id,
            "from": from_user or chat.user_dict(),
            "message": message.to_dict(),
            "chat_instance": str(-chat_id),
            "data": data,
        }
        return await self._feed({"callback_query": query})

    async def flush_webhook(self) -> list[WebhookDelivery]:
        """Post the pending updates to the webhook in order, stopping at the first failure."""
        deliveries: list[WebhookDelivery] = []
        while self.webhook_url and self.pending_updates:
            delivery = await self._post_to_webhook(self.pending_updates[0])
            deliveries.append(delivery)
            if delivery.error is not None:
                self._webhook_error = (int(time.time()), delivery.error)
                break
            self.pending_updates.pop(0)
        self._notify()
        return deliveries

    # ---------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.stats.requests[method] += 1
        fault = self._take_fault(method)
        if fault is not None:
            self.stats.faults += 1
            if fault.drop:
                assert request.transport is not None
                request.transport.abort()
                raise asyncio.CancelledError  # nothing can be answered on a dead connection
            description = fault.description or HTTPStatus(fault.status).phrase
            if fault.retry_after is not None and fault.description is None:
                description = f"Too Many Requests: retry after {fault.retry_after}"
            return self._json(ApiError(fault.status, description, fault.retry_after).payload())
        try:
            params = await self._read_params(request)
        except ApiError as error:
            return self._json(error.payload())
        if request.match_info["token"] != self.token:
            body = ApiError(401, "Unauthorized").payload()
        else:
            body = await self.call(method, params)
        self.requests.append(
            RecordedRequest(method, params, body.get("error_code", 200), self.clock())
        )
        self._notify()
        return self._json(body)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        return self._json(ApiError(404, "Not Found").payload())

    async def call(self, method: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Run a Bot API method on parsed parameters; returns the response envelope."""
        handler = self._methods.get(method.lower())
        if handler is None:
            return ApiError(404, "Not Found").payload()
        try:
            result = await handler(_Params(raw))
        except ApiError as error:
            return error.payload()
        if isinstance(result, tuple):  # (result, description)
            return {"ok": True, "result": result[0], "description": result[1]}
        return {"ok": True, "result": result}

    @staticmethod
    def _json(body: dict[str, Any]) -> web.Response:
        status = 200 if body["ok"] else body["error_code"]
        return web.json_response(body, status=status)

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            params.update(body)
        else:
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
        return params

    def _take_fault(self, method: str) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.method is None or fault.method == method.lower():
                return self._faults.pop(index)
        return None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ---------------------------------------------------------------- helpers

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name,
                "username": self.username}  # fmt: skip

    def _resolve_chat(self, params: _Params) -> FakeChat:
        value = params.text("chat_id")
        if not value:
            raise bad_request("chat_id is empty")
        if value.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username == value[1:]), None)
        else:
            chat = self._chats.get(int(value)) if re.fullmatch(r"-?\d+", value) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    @staticmethod
    def _check_reachable(chat: FakeChat) -> None:
        if chat.type != "private":
            if chat.blocked:
                raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
            return
        if chat.deactivated:
            raise ApiError(403, "Forbidden: user is deactivated")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    @staticmethod
    def _render_text(params: _Params) -> tuple[str, list[dict[str, Any]]]:
        raw = params.text("text") or ""
        if not raw.strip():
            raise bad_request("message text is empty")
        entities = params.json("entities", "entities")
        parse_mode = (params.text("parse_mode") or "").lower()
        if entities is not None:
            if not isinstance(entities, list):
                raise bad_request("can't parse entities JSON object")
            text = raw
        elif parse_mode == "html":
            try:
                text, entities = parse_html(raw)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        elif parse_mode in ("", "markdown", "markdownv2"):  # Markdown is stored unparsed
            text, entities = raw, []
        else:
            raise bad_request("unsupported parse_mode")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        return text, entities

    @staticmethod
    def _reply_markup(params: _Params) -> dict[str, Any] | None:
        markup = params.json("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: text is empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _admit(self, chat: FakeChat) -> float:
        """Pass the rate limits or raise 429; returns the arrival time."""
        now = self.clock()
        checks = [(limiter, key(chat)) for limiter, key in self._limiters]
        if self._group_limiter is not None and chat.type != "private":
            checks.append((self._group_limiter, chat.id))
        wait = max(limiter.wait_time(key, now) for limiter, key in checks)
        if wait > 0:
            self.stats.rejected_429 += 1
            self.stats.chat(chat.id).rejected_429 += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for limiter, key in checks:
            limiter.record(key, now)
        return now

    def _add_message(
        self,
        chat: FakeChat,
        text: str,
        entities: list[dict[str, Any]],
        reply_markup: dict[str, Any] | None,
        *,
        sender: dict[str, Any],
        raw_text: str | None = None,
        parse_mode: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> SentMessage:
        chat.last_message_id += 1
        message = SentMessage(
            chat=chat,
            message_id=chat.last_message_id,
            text=text,
            raw_text=text if raw_text is None else raw_text,
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=reply_markup,
            date=int(time.time()),
            arrived_at=self.clock(),
            sender=sender,
            params=params or {},
        )
        self._history.setdefault(chat.id, []).append(message)
        return message

    def _find_message(self, chat_id: int, message_id: int | None) -> SentMessage | None:
        for message in self._history.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def _find_bot_message(self, params: _Params) -> SentMessage:
        if params.text("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        chat = self._resolve_chat(params)
        message = self._find_message(chat.id, params.integer("message_id"))
        if message is None or not message.from_bot:
            raise bad_request("message to edit not found")
        self._check_reachable(chat)
        return message

    async def _feed(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._update_id += 1
        update = {"update_id": self._update_id, **payload}
        kind = next(iter(payload))
        allowed = self.allowed_updates
        if (kind not in allowed) if allowed else (kind in NOT_SENT_BY_DEFAULT):
            self.dropped_updates.append(update)
            return update
        self.pending_updates.append(update)
        self._notify()
        if self.webhook_url:
            await self.flush_webhook()
        return update

    async def _post_to_webhook(self, update: dict[str, Any]) -> WebhookDelivery:
        assert self._client is not None
        headers = {}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        timeout = ClientTimeout(total=self.webhook_timeout)
        try:
            async with self._client.post(
                self.webhook_url, json=update, headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                    delivery = WebhookDelivery(update, response.status, error)
                else:
                    delivery = WebhookDelivery(update, response.status, None)
                    reply = await self._webhook_reply(response)
                    if reply is not None:
                        delivery.reply_method = str(reply.pop("method"))
                        envelope = await self.call(delivery.reply_method, reply)
                        delivery.reply_result = envelope
                        self.requests.append(
                            RecordedRequest(delivery.reply_method, reply,
                                            envelope.get("error_code", 200), self.clock(), True)
                        )  # fmt: skip
        except TimeoutError:
            delivery = WebhookDelivery(update, None, "Read timeout expired")
        except ClientError as error:
            delivery = WebhookDelivery(update, None, f"Connection failed: {error}")
        self.webhook_deliveries.append(delivery)
        return delivery

    @staticmethod
    async def _webhook_reply(response: Any) -> dict[str, Any] | None:
        """A method call the webhook answered with (JSON or multipart form), if any."""
        if response.content_type == "multipart/form-data":
            reply: dict[str, Any] = {}
            async for part in MultipartReader.from_response(response):
                if part.name:  # type: ignore[union-attr]
                    reply[part.name] = await part.text()  # type: ignore[union-attr]
        elif response.content_type == "application/json":
            reply = await response.json()
        else:
            return None
        return reply if isinstance(reply, dict) and reply.get("method") else None

    # ---------------------------------------------------------------- methods

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        return self._me() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        text, entities = self._render_text(params)
        markup = self._reply_markup(params)
        reply_to = params.json("reply_parameters", "reply parameters") or {}
        if isinstance(reply_to, dict) and "message_id" in reply_to:
            known = self._find_message(chat.id, int(reply_to["message_id"])) is not None
            if not known and not reply_to.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        self._check_reachable(chat)
        arrived_at = self._admit(chat)
        message = self._add_message(
            chat,
            text,
            entities,
            markup,
            sender=self._me(),
            raw_text=params.text("text"),
            parse_mode=params.text("parse_mode"),
            params=dict(params.raw),
        )
        message.arrived_at = arrived_at
        self.sent.append(message)
        self.stats.sent += 1
        self.stats.chat(chat.id).sent += 1
        self.stats.arrivals.append(arrived_at)
        return message.to_dict()

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        message = self._find_bot_message(params)
        text, entities = self._render_text(params)
        markup = self._reply_markup(params)  # no reply_markup: the keyboard goes away
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.raw_text, message.parse_mode = params.text("text") or "", params.text("parse_mode")
        return self._edited(message)

    async def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        message = self._find_bot_message(params)
        markup = self._reply_markup(params)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = markup
        return self._edited(message)

    def _edited(self, message: SentMessage) -> dict[str, Any]:
        message.edit_date = int(time.time())
        message.edits += 1
        return message.to_dict()

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if self._callback_queries.get(query_id, True):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._callback_queries[query_id] = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": params.text("text"),
                "show_alert": params.flag("show_alert"),
                "url": params.text("url"),
            }
        )
        return True

    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._resolve_chat(params)
        action = params.text("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_reachable(chat)
        self.chat_actions.append((chat.id, action))
        return True

    @staticmethod
    def _commands_key(params: _Params) -> tuple[str, str]:
        scope = params.json("scope", "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.text("language_code") or ""

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands", "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be 1-256 characters")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _set_webhook(self, params: _Params) -> tuple[bool, str]:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise bad_request("bad webhook: invalid webhook URL specified")
        secret = params.text("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            self.pending_updates.clear()
        allowed = params.json("allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        already = (self.webhook_url, self.webhook_secret) == (url, secret)
        self.webhook_url, self.webhook_secret = url, secret
        self._webhook_error = None
        self._notify()  # a waiting getUpdates is terminated
        return True, "Webhook is already set" if already else "Webhook was set"

    async def _delete_webhook(self, params: _Params) -> tuple[bool, str]:
        if params.flag("drop_pending_updates"):
            self.pending_updates.clear()
        was_set = bool(self.webhook_url)
        self.webhook_url, self.webhook_secret, self._webhook_error = "", None, None
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }
        if self.webhook_url:
            info |= {"max_connections": 40, "ip_address": "127.0.0.1"}
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = min(max(params.integer("timeout") or 0, 0), 50)
        allowed = params.json("allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:  # everything before offset is confirmed and forgotten
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        elif offset < 0:
            self.pending_updates = self.pending_updates[offset:]
        me = object()
        if self._poller is not None:
            self._notify()  # the older poll is terminated
        self._poller = me
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                if self._poller is not me:
                    raise ApiError(409, CONFLICT_OTHER_POLL)
                if self.webhook_url:
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                remaining = deadline - asyncio.get_running_loop().time()
                if self.pending_updates or remaining <= 0 or self._closing:
                    return self.pending_updates[:limit]
                changed = self._changed
                try:
                    async with asyncio.timeout(remaining):
                        await changed.wait()
                except TimeoutError:
                    pass
        finally:
            if self._poller is me:
                self._poller = None
