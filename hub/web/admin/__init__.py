"""Administration pages: people, classes, guardianships, roles, consent, accounts, CSV
import, API tokens, personal-data export and erasure."""

from __future__ import annotations

from aiohttp import web

from hub.web.admin import classes, imports, people, personal_data, tokens
from hub.web.admin.nav import add_nav


def setup(app: web.Application) -> None:
    for module in (people, classes, imports, tokens, personal_data):
        app.router.add_routes(module.routes)
    add_nav(app)
