"""The journal's web component (added by hub.compose.web_app): the teacher's grid and list
(hub.journal.grid_views), the parents' page (hub.journal.children_views) and their places
in the navigation. The JSON API is hub.journal.api."""

from __future__ import annotations

from aiohttp import web

from hub.auth.access import Action, Principal, can, classes_for
from hub.http.keys import NAV, NavItem
from hub.journal import children_views, grid_views


def setup(app: web.Application) -> None:
    app.router.add_get("/journal", grid_views.journal_page)
    app.router.add_post("/journal", grid_views.journal_save)
    app.router.add_get("/journal/entered", grid_views.entered_page)
    app.router.add_get("/children", children_views.children_page)
    app[NAV].append(NavItem("Журнал", "/journal", visible=_enters_grades, order=25))
    app[NAV].append(NavItem("Оценки", "/children", visible=_sees_own_grades, order=30))


def _enters_grades(principal: Principal) -> bool:
    return bool(classes_for(principal, Action.ENTER_GRADES))


def _sees_own_grades(principal: Principal) -> bool:
    return can(principal, Action.VIEW_OWN_GRADES)
