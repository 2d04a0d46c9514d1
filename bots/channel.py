"""The Telegram channel: notifications from the delivery pipeline as Telegram HTML messages.

Every send draws a slot from two shared token buckets first, the bot's (about 30 a second)
and the chat's (1 a second), so that all workers together stay under Telegram's limits
and a burst is spread out instead of refused. Telegram's answers map onto the pipeline's:
429 → TemporaryFailure(retry_after), a blocked bot or an unknown chat → the address is
disabled and PermanentFailure(fallback_to_email=True), network errors and 5xx →
TemporaryFailure (the pipeline backs off).
"""

from __future__ import annotations

import asyncio
import logging
from html import escape

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import LinkPreviewOptions

from bots import limits
from bots.client import bot_id_of, make_bot
from bots.limits import BOT_RATE, CHAT_RATE, chat_key, limiter_for
from bots.splitting import split_html
from hub.config import Settings
from hub.db import Database
from hub.notify.acceptance import Turn
from hub.notify.addresses import ContactAddress, disable_address
from hub.notify.channel import (
    KIND_TITLES,
    ChannelName,
    Envelope,
    Item,
    PermanentFailure,
    TemporaryFailure,
)
from hub.ratelimit import Rate, RateLimiter, RateLimitExceeded, RedisLimiter, take

log = logging.getLogger(__name__)

# How long a send may wait for a slot before handing the delivery back to the pipeline
# (a worker holds a lease on it meanwhile).
MAX_WAIT = 20.0
# A later piece of a split message is retried here rather than through the pipeline,
# which would send the earlier pieces again.
PIECE_RETRIES = 4


def render(envelope: Envelope) -> str:
    """The envelope as Telegram HTML: each item's title, child, text and link."""
    if not envelope.digest and len(envelope.items) == 1:
        return _item_html(envelope.items[0])
    blocks = [f"<b>Сводка уведомлений</b> ({len(envelope.items)})"]
    blocks += [_item_html(item, in_digest=True) for item in envelope.items]
    return "\n\n".join(blocks)


def _item_html(item: Item, *, in_digest: bool = False) -> str:
    mark = "❗ " if item.urgent else ""
    lines = [f"{mark}<b>{escape(item.title)}</b>"]
    if item.child_name:
        lines.append(f"<i>{escape(item.child_name)}</i>")
    elif in_digest:
        lines.append(f"<i>{KIND_TITLES[item.kind].capitalize()}</i>")
    if item.body.strip():
        lines.append(escape(item.body.strip()))
    if item.url:
        lines.append(f'<a href="{escape(item.url, quote=True)}">Открыть на портале</a>')
    return "\n".join(lines)


class TelegramChannel:
    name = ChannelName.TELEGRAM

    def __init__(
        self,
        bot: Bot,
        db: Database,
        limiter: RateLimiter,
        *,
        bot_rate: Rate = BOT_RATE,
        chat_rate: Rate = CHAT_RATE,
        max_wait: float = MAX_WAIT,
        owns_bot: bool = True,
        owns_limiter: bool = False,
    ) -> None:
        self.bot = bot
        self.db = db
        self.limiter = limiter
        self.bot_rate = bot_rate
        self.chat_rate = chat_rate
        self.max_wait = max_wait
        self.owns_bot = owns_bot
        self.owns_limiter = owns_limiter

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> TelegramChannel | None:
        """The channel for the configured bot, or None without a token."""
        if settings.telegram_bot_token is None:
            return None
        bot_id_of(settings)  # a malformed token fails here, at start
        return cls(make_bot(settings), db, limiter_for(settings),
                   owns_limiter=settings.redis_url is not None)

    async def send(self, envelope: Envelope, turn: Turn | None = None) -> str:
        try:
            chat_id = int(envelope.address)
        except ValueError:
            raise PermanentFailure("not a Telegram chat id", fallback_to_email=True) from None
        pieces = split_html(render(envelope))
        if not pieces:
            raise PermanentFailure("nothing to send")
        message_ids = []
        for index, piece in enumerate(pieces):
            message_ids.append(await self._send_piece(envelope, chat_id, piece, first=index == 0))
        return f"{chat_id}:" + ",".join(str(i) for i in message_ids)

    async def _send_piece(self, envelope: Envelope, chat_id: int, html: str, *, first: bool) -> int:
        chat_bucket = chat_key(self.bot.id, chat_id)
        buckets = limits.buckets(self.bot.id, chat_id, bot_rate=self.bot_rate,
                                 chat_rate=self.chat_rate)
        attempt = 0
        while True:
            attempt += 1
            try:
                await take(self.limiter, buckets, late_limit=limits.LATE_LIMIT,
                           max_wait=self.max_wait if first else self.max_wait * 3)
                message = await self.bot.send_message(
                    chat_id, html, parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                return message.message_id
            except RateLimitExceeded as busy:
                raise TemporaryFailure("rate limit: no slot soon", retry_after=busy.wait) from None
            except TelegramRetryAfter as error:
                log.warning("telegram 429 for delivery %s: retry after %s s",
                            envelope.delivery_id, error.retry_after)
                await self.limiter.hold(chat_bucket, self.chat_rate, error.retry_after)
                if first or attempt > PIECE_RETRIES:
                    raise TemporaryFailure("429 Too Many Requests",
                                           retry_after=error.retry_after) from None
                await asyncio.sleep(error.retry_after)
            except TelegramForbiddenError as error:
                await self._unreachable(envelope, f"403: {error.message}")
                raise PermanentFailure(error.message, fallback_to_email=True) from None
            except TelegramBadRequest as error:
                if "chat not found" in error.message.lower():
                    await self._unreachable(envelope, "400: chat not found")
                raise PermanentFailure(error.message, fallback_to_email=True) from None
            except TelegramUnauthorizedError:
                # The token was revoked: the deployment's problem, not the parent's address.
                raise TemporaryFailure("the bot token is not accepted") from None
            except (TelegramNetworkError, TelegramServerError, TelegramAPIError) as error:
                if first or attempt > PIECE_RETRIES:
                    # A network error may come after Telegram took the message.
                    raise TemporaryFailure(
                        type(error).__name__, uncertain=isinstance(error, TelegramNetworkError)
                    ) from None
                await asyncio.sleep(min(2 ** attempt, 30))

    async def _unreachable(self, envelope: Envelope, reason: str) -> None:
        """Stop sending to this chat: the person falls back to e-mail until they link anew."""
        async with self.db.transaction() as session:
            row = await session.get(ContactAddress, (envelope.person_id, ChannelName.TELEGRAM))
            if row is not None and row.address == envelope.address:
                await disable_address(session, envelope.person_id, ChannelName.TELEGRAM, reason)
        log.info("telegram chat of person %s unreachable (%s); address disabled",
                 envelope.person_id, reason.split(":")[0])

    async def aclose(self) -> None:
        if self.owns_bot:
            await self.bot.session.close()
        if self.owns_limiter and isinstance(self.limiter, RedisLimiter):
            await self.limiter.redis.aclose()

