"""Templates: the Jinja2 environment, rendering a page, error pages."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from hub.http import page_context
from hub.http.badges import setup_badges
from hub.http.fragments import setup_fragments
from hub.http.keys import ACCOUNT, CSRF_TOKEN, NAV, PRINCIPAL, SETTINGS
from hub.school import ROLE_TITLES, Role


def setup_templates(app: web.Application, packages: tuple[str, ...]) -> None:
    """Templates from each package's `templates` folder (<package>/templates/<package>/...);
    the layout and the account pages live in hub/web/templates."""
    loaders: list[jinja2.BaseLoader] = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(location) / "templates"
            if folder.is_dir():
                loaders.append(jinja2.FileSystemLoader(folder))
    setup_badges(app)
    setup_fragments(app)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change with a release, not under a running server: no stat of each
        # template file on every render.
        auto_reload=False,
    )
    # After the middlewares the kernel's application was made with (identity, CSRF), as
    # aiohttp_jinja2's own context processors would be.
    app.middlewares.append(page_context.middleware)
    env.filters["local"] = lambda value, fmt="%d.%m.%Y %H:%M": _local(app, value, fmt)
    env.globals["role_title"] = lambda role: ROLE_TITLES[Role(role)]


def _local(app: web.Application, value: dt.datetime | None, fmt: str) -> str:
    if value is None:
        return ""
    return value.astimezone(app[SETTINGS].tz).strftime(fmt)


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    return page_context.page_response(
        request, lambda: aiohttp_jinja2.render_string(template, request, context or {}).encode(),
        status=status)


# What a person reads for an HTTP error that came with aiohttp's English reason.
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Неверный запрос", "Запрос не удалось разобрать. Вернитесь назад и попробуйте ещё раз."),
    403: ("Недостаточно прав", "У вас нет доступа к этой странице."),
    404: ("Страница не найдена",
          "Такой страницы нет: возможно, её удалили или ссылка набрана с ошибкой."),
    405: ("Действие недоступно", "Эту страницу нельзя открыть таким способом."),
    409: ("Конфликт", "Данные успели измениться. Обновите страницу и попробуйте ещё раз."),
    413: ("Слишком большой запрос", "Файл или текст слишком велик."),
    422: ("Проверьте данные", "Некоторые поля заполнены неверно."),
    429: ("Слишком много запросов", "Подождите немного и попробуйте ещё раз."),
}


def _plain_nav(request: web.Request, principal: Any) -> list[dict[str, Any]]:
    """The navigation without badges (an error page is not the place to count)."""
    if principal is None or NAV not in request.app:
        return []
    items = request.app[NAV]
    return [{"title": item.title, "path": item.path, "badge": None}
            for item in sorted(items, key=lambda i: i.order)
            if item.visible(principal)]


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    # aiohttp's own refusals ("Not Found") arrive in English: say them in Russian.
    if status in ERROR_TEXTS and (title.isascii() or message.isascii()):
        russian_title, russian_message = ERROR_TEXTS[status]
        title = russian_title if title.isascii() else title
        message = russian_message if message.isascii() else message
    # The error may have stopped the request before the context processors ran.
    principal = request.get(PRINCIPAL)
    context = {
        "principal": principal,
        "account": request.get(ACCOUNT),
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "nav": _plain_nav(request, principal),
        "request_path": request.path,
        "title": title,
        "message": message,
    }
    # The whole context is here: rendered now, whatever the request's method.
    text = aiohttp_jinja2.get_env(request.app).get_template("error.html").render(context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def redirect(location: str) -> web.Response:
    """A 303 See Other to return (not raise) when the response sets cookies."""
    return web.Response(status=303, headers={"Location": location})
