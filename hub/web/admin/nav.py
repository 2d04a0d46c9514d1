"""The administration's items in the top navigation."""

from __future__ import annotations

from aiohttp import web

from hub.auth.access import Action, can
from hub.http.keys import NAV, NavItem


def add_nav(app: web.Application) -> None:
    app[NAV].extend([
        NavItem("Люди", "/admin/people", lambda p: can(p, Action.VIEW_PEOPLE), order=70),
        NavItem("Классы", "/admin/classes", lambda p: can(p, Action.VIEW_PEOPLE), order=71),
        NavItem("Импорт", "/admin/import", lambda p: can(p, Action.IMPORT_PEOPLE), order=72),
        NavItem("API-токены", "/admin/tokens", lambda p: can(p, Action.MANAGE_API_TOKENS),
                order=73),
    ])
