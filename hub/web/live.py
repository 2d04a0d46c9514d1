"""Live pages: server-sent events carrying "something changed" notes from the broker.

A note carries ids, never content: the page then fetches what changed through the ordinary,
access-checked views. So a note reaching a page it should not costs nothing but a request
that is refused.
"""

from __future__ import annotations

import asyncio
import json
import re

from aiohttp import web
from aiohttp_sse import sse_response

from hub.broker import live_channel
from hub.web.keys import BROKER
from hub.web.session import current_principal

CHANNEL = re.compile(r"^[a-z_]{1,32}:[0-9A-Za-z_-]{1,64}$")
KEEPALIVE_SECONDS = 15


def setup(app: web.Application) -> None:
    app.router.add_get("/live", live)


async def live(request: web.Request) -> web.StreamResponse:
    """GET /live?c=topic:12&c=queue:1 streams notes for those channels."""
    current_principal(request)
    wanted = request.query.getall("c", [])
    if not wanted or len(wanted) > 10 or not all(CHANNEL.match(c) for c in wanted):
        raise web.HTTPBadRequest(text="Неверный список каналов.")
    channels = [live_channel(*c.split(":", 1)) for c in wanted]
    async with (
        request.app[BROKER].subscribe(*channels) as notes,
        sse_response(request) as stream,
    ):
        stream.ping_interval = KEEPALIVE_SECONDS
        iterator = aiter(notes)
        while stream.is_connected():
            try:
                channel, note = await asyncio.wait_for(anext(iterator), KEEPALIVE_SECONDS)
            except TimeoutError:
                continue
            try:
                await stream.send(
                    json.dumps({"channel": channel.removeprefix("hub:live:"), **note})
                )
            except (ConnectionResetError, RuntimeError):
                break  # the page was closed
    return stream
