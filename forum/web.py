"""The forum's web component (added by hub.compose.web_app): routes, navigation, static
files, and the task that publishes scheduled announcements when they fall due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from forum import board
from forum.board_views import routes as board_routes
from forum.forum_views import routes as forum_routes
from hub.auth.access import Action, can
from hub.http.keys import DB, NAV, NavItem

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
DUE_CHECK_SECONDS = 30.0


def setup(app: web.Application) -> None:
    app.router.add_routes(board_routes)
    app.router.add_routes(forum_routes)
    app.router.add_static("/static/forum/", STATIC, name="forum_static")
    app[NAV].append(NavItem("Объявления", "/board",
                            visible=lambda p: can(p, Action.READ_BOARD), order=10))
    app[NAV].append(NavItem("Форум", "/forum",
                            visible=lambda p: can(p, Action.READ_SCHOOL_FORUM), order=20))
    app.cleanup_ctx.append(_due_announcements)


async def _due_announcements(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_publish_due_forever(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _publish_due_forever(app: web.Application) -> None:
    """Scheduled announcements: emit AnnouncementPublished once each falls due (several
    instances may run this; board.announce_if_due claims each one with a compare-and-set)."""
    while True:
        try:
            async with app[DB].transaction() as session:
                published = await board.publish_due(session)
            if published:
                log.info("scheduled announcements published: %s", published)
        except Exception:  # the next round tries again; the database holds the truth
            log.exception("publishing due announcements failed")
        await asyncio.sleep(DUE_CHECK_SECONDS)
