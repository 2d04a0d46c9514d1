"""The one kind of refusal a person reads.

A service that refuses raises `UserError(message, status=...)`, one of the classes below
or a domain's subclass of them (`hub.school.SchoolError`, `moderation.queue.ItemConflict`);
the error middleware (hub.http.middlewares) turns it into a page or a JSON answer once, for
every view. `details` carries what a form or an API client needs to point at each problem
(a batch's bad items, a CSV's bad lines); it must be JSON-serialisable.

A view that re-shows a form with the error beside the author's input catches `UserError`
and renders `exc.message` with `exc.status`; nothing else catches it to translate it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class UserError(Exception):
    """A refusal with the HTTP status it answers with and a message in the UI's language."""

    status: int = 400
    title: str = "Ошибка в запросе"

    def __init__(self, message: str, *, status: int | None = None,
                 details: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = list(details)

    def __str__(self) -> str:
        return self.message


class Invalid(UserError):
    status = 422
    title = "Проверьте данные"


class Forbidden(UserError):
    status = 403
    title = "Недостаточно прав"


class NotFound(UserError):
    status = 404
    title = "Не найдено"


class Conflict(UserError):
    status = 409
    title = "Конфликт"


class TooLarge(UserError):
    status = 413
    title = "Слишком много данных"
