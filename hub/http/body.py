"""Reading a request's body: all of it, up to a limit.

`request.content.read(n)` answers with what has arrived so far, not with n bytes: a body
that came in two TCP segments a second apart was cut at the first one, so a CSV lost its
last rows and a JSON batch stopped being JSON. Every reader of a raw body goes through
`read_body`, which reads to the end of the body and refuses one over the limit with 413.
(Form posts are read whole by aiohttp's `request.post()`, within the app's
client_max_size.)
"""

from __future__ import annotations

from aiohttp import web

from hub.errors import TooLarge


def too_large(limit: int) -> TooLarge:
    if limit >= 1024 * 1024:
        size = f"{limit // (1024 * 1024)} МиБ"
    else:
        size = f"{limit // 1024} КиБ"
    return TooLarge(f"Тело запроса больше {size}.")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or TooLarge (413) as soon as it is known to exceed `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)
