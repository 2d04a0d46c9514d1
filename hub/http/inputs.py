"""One check of every text a request carries, before any view reads it.

A NUL character or bytes that are not UTF-8 in a path, a query parameter or a form field
(its values and its files' names) cannot be stored: PostgreSQL refuses NUL with an error
that surfaced as a 500, SQLite kept it. Checking here, once, covers every form and search
of every package; JSON bodies are checked where they are read (hub.http.api.read_json), and
CSV files where they are decoded (hub.importer). The refusal is a 400 with a message a
person can read, before anything is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from hub.errors import UserError
from hub.text import unstorable

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BadText(UserError):
    status = 400
    title = "Недопустимые символы"


@web.middleware
async def inputs(request: web.Request, handler: Handler) -> web.StreamResponse:
    if unstorable(request.path):
        raise BadText("Адрес страницы содержит недопустимые символы.")
    for name, value in request.query.items():
        if unstorable(name) or unstorable(value):
            raise BadText(f"Параметр «{_shown(name)}» содержит недопустимые символы "
                          "(например, нулевой символ).")
    if request.method in BODY_METHODS and request.content_type in FORM_TYPES:
        try:
            form = await request.post()
        except (UnicodeDecodeError, ValueError, HttpProcessingError):
            raise BadText("Форма пришла не в кодировке UTF-8 или повреждена.") from None
        for name, field in form.items():
            text = field.filename if isinstance(field, web.FileField) else field
            if isinstance(text, str) and (unstorable(name) or unstorable(text)):
                what = "Имя файла" if isinstance(field, web.FileField) else "Поле"
                raise BadText(f"{what} «{_shown(name)}» содержит недопустимые символы "
                              "(например, нулевой символ). Уберите их и отправьте снова.")
    return await handler(request)


def _shown(name: str) -> str:
    return "".join(c for c in name if c.isprintable())[:40]
