"""Rendered parts of pages remembered between requests: a topic's posts, the board's list.

A page first runs the statement that decides what this reader may see (the access rules
stay in SQL, asked on every request); what it found (ids, the reader's own flags) is the
key of the fragment, so two readers share one only when the same rows and the same marks
are theirs. The fragment also remembers the write stamps (hub.stamps) of the tables it was
rendered from and is rendered again after any write to one of them: an edited, hidden or
rejected post, a renamed person, a new attachment shows on the next request.

Forms in a fragment carry the reader's CSRF token; a fragment is rendered with a marker in
its place (random per process, so no text a person writes can contain it) that
`personal` swaps for the reader's own token. `render_with` renders a page around a slot
(another such marker) and puts the fragment's bytes there: ~70 kB of posts are encoded
once, not on every request.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from hub import clock
from hub.http.keys import CSRF_TOKEN, DB
from hub.http.page_context import page_response
from hub.stamps import Stamp

MAX_AGE = 60.0  # seconds: the bound for writes no stamp saw (another machine)
MAX_ENTRIES = 2_000
MAX_CHARS = 16_000_000  # all fragments together (a topic page of 50 posts is ~70,000)
CSRF_MARKER = Markup(f"csrf-{secrets.token_hex(16)}")


SLOT = Markup(f"fragment-{secrets.token_hex(16)}")  # where render_with puts a fragment


@dataclass(frozen=True)
class Fragment:
    html: str  # with CSRF_MARKER where the reader's token goes
    facts: Any = None  # what the page needs besides the markup (page numbers, names)
    until: dt.datetime | None = None  # a time after which it no longer holds (edit links)
    # The markup as UTF-8, cut at the CSRF markers: joined with a reader's token, it goes
    # into a page without being encoded again (a topic's posts are ~70 kB of Cyrillic).
    parts: tuple[bytes, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(
            part.encode() for part in self.html.split(CSRF_MARKER)
        ))


@dataclass(frozen=True)
class _Entry:
    fragment: Fragment
    stamp: Stamp
    loaded_at: float


class FragmentCache:
    """Key -> Fragment, one per web process, each valid while its tables' stamps hold."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}
        self._chars = 0

    def get(self, key: Hashable, stamp: Stamp) -> Fragment | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        until = entry.fragment.until
        if (
            entry.stamp != stamp
            or time.monotonic() - entry.loaded_at >= MAX_AGE
            or (until is not None and clock.now() >= until)
        ):
            self._drop(key)
            return None
        return entry.fragment

    def put(self, key: Hashable, stamp: Stamp, fragment: Fragment) -> None:
        self._drop(key)
        if (len(self._entries) >= MAX_ENTRIES
                or self._chars + len(fragment.html) > MAX_CHARS):
            self.clear()
        self._entries[key] = _Entry(fragment, stamp, time.monotonic())
        self._chars += len(fragment.html)

    def clear(self) -> None:
        self._entries.clear()
        self._chars = 0

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._chars -= len(entry.fragment.html)


FRAGMENTS = web.AppKey("fragments", FragmentCache)


def setup_fragments(app: web.Application) -> None:
    app[FRAGMENTS] = FragmentCache()


def stamp(request: web.Request, tables: tuple[str, ...]) -> Stamp:
    """The tables' write stamps: read them before the data a fragment is rendered from."""
    return request.app[DB].stamps.current(tables)


def render_fragment(request: web.Request, template: str, context: dict[str, Any]) -> str:
    """A template rendered for any reader: the CSRF marker stands for their token."""
    env = aiohttp_jinja2.get_env(request.app)
    return env.get_template(template).render({**context, "csrf_token": CSRF_MARKER})


def personal(request: web.Request, fragment: Fragment) -> bytes:
    """The fragment as UTF-8 with this reader's CSRF token in its forms."""
    return request.get(CSRF_TOKEN, "").encode().join(fragment.parts)


def render_with(request: web.Request, template: str, context: dict[str, Any], name: str,
                fragment: Fragment, *, status: int = 200) -> web.Response:
    """`template` rendered with `fragment` (this reader's token in its forms) as the value
    `name`: the page is rendered around a slot and the fragment's bytes go into it."""
    def build() -> bytes:
        page = aiohttp_jinja2.render_string(template, request, {**context, name: SLOT})
        head, tail = page.split(SLOT, 1)
        return b"".join((head.encode(), personal(request, fragment), tail.encode()))

    return page_response(request, build, status=status)
