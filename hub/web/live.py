"""Live pages: server-sent events carrying "something changed" notes from the broker.

A note carries ids, never content: the page then fetches what changed through the ordinary,
access-checked views. Even so, that a topic of another class got a reply, or that the
moderation queue moved, is itself not for everyone: each channel a page asks for is
authorised by the package that owns its kind (the composition root hands the checks in),
and a kind nobody registered is refused.
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from hub.auth.access import Principal
from hub.broker import live_channel
from hub.db import Database
from hub.errors import Forbidden, UserError
from hub.http.keys import BROKER, DB
from hub.http.session import current_principal

CHANNEL = re.compile(r"^[a-z_]{1,32}:[0-9A-Za-z_-]{1,64}$")
KEEPALIVE_SECONDS = 15
OPEN_STREAMS: web.AppKey[weakref.WeakSet[EventSourceResponse]] = web.AppKey("live_streams")

# (database, principal, the channel's id) -> whether the principal may follow it.
MayFollow = Callable[[Database, Principal, str], Awaitable[bool]]
CHANNEL_KINDS = web.AppKey("live_channel_kinds", Mapping[str, MayFollow])


def setup(app: web.Application, kinds: Mapping[str, MayFollow]) -> None:
    """`kinds`: who may follow each kind of channel ("topic", "board", "queue", ...)."""
    app[OPEN_STREAMS] = weakref.WeakSet()
    app[CHANNEL_KINDS] = dict(kinds)
    app.router.add_get("/live", live)
    app.on_shutdown.append(_close_streams)


async def _close_streams(app: web.Application) -> None:
    # Open pages would otherwise hold a shutting-down server until they go away.
    streams = app[OPEN_STREAMS]
    for stream in list(streams):
        stream.stop_streaming()


async def live(request: web.Request) -> web.StreamResponse:
    """GET /live?c=topic:12&c=queue:1 streams notes for those channels until the page
    closes (noticed by the keep-alive ping) or the server shuts down."""
    principal = current_principal(request)
    wanted = request.query.getall("c", [])
    if not wanted or len(wanted) > 10 or not all(CHANNEL.match(c) for c in wanted):
        raise UserError("Неверный список каналов.")
    pairs = [c.split(":", 1) for c in wanted]
    kinds = request.app[CHANNEL_KINDS]
    for kind, ident in pairs:
        may_follow = kinds.get(kind)
        if may_follow is None:
            raise UserError("Неверный список каналов.")
        if not await may_follow(request.app[DB], principal, ident):
            raise Forbidden("Нет доступа к одному из каналов.")
    channels = [live_channel(kind, ident) for kind, ident in pairs]
    async with (
        request.app[BROKER].subscribe(*channels) as notes,
        sse_response(request, ping_interval=KEEPALIVE_SECONDS) as stream,
    ):
        request.app[OPEN_STREAMS].add(stream)
        await _relay(notes, stream)
    return stream


async def _relay(
    notes: AsyncIterator[tuple[str, dict[str, object]]], stream: EventSourceResponse
) -> None:
    closed = asyncio.ensure_future(stream.wait())
    next_note: asyncio.Future[tuple[str, dict[str, object]]] | None = None
    try:
        while True:
            # One pending read at a time, never cancelled mid-way while the page is open:
            # cancelling it would end the subscription's generator.
            next_note = asyncio.ensure_future(anext(notes))
            await asyncio.wait({next_note, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not next_note.done():
                break
            channel, note = next_note.result()
            try:
                await stream.send(
                    json.dumps({"channel": channel.removeprefix("hub:live:"), **note})
                )
            except (ConnectionResetError, RuntimeError):
                break  # the page was closed
    finally:
        for task in (closed, next_note):
            if task is not None and not task.done():
                task.cancel()
