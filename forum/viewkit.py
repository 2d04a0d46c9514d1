"""Small helpers the board's and the forum's views share: reading ids, numbers and dates
from the path, the query and forms (a bad value is a hub.errors refusal)."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.errors import Invalid, NotFound, UserError


def ident(request: web.Request, name: str = "id") -> int:
    try:
        value = int(request.match_info[name])
    except (KeyError, ValueError):
        raise NotFound("Страница не найдена.") from None
    if not 0 < value < 2**62:
        raise NotFound("Страница не найдена.")
    return value


def query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"Параметр {name}: ожидается число.") from None
    if not 0 <= value < 2**62:
        raise UserError(f"Параметр {name}: число вне допустимых пределов.")
    return value


def form_int(value: object, what: str) -> int | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        number = int(raw)
    except ValueError:
        raise Invalid(f"{what}: ожидается число.") from None
    if not 0 < number < 2**62:
        raise Invalid(f"{what}: число вне допустимых пределов.")
    return number


def local_datetime(value: object, zone: ZoneInfo, what: str) -> dt.datetime | None:
    """A datetime-local field ("2026-12-01T09:00") in the school's zone, as UTC."""
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{what}: неверная дата, ожидается ДД.ММ.ГГГГ ЧЧ:ММ.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(dt.UTC)


def as_local_input(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def new_form_token() -> str:
    """Marks one rendering of a form: submitting it twice makes one thing, not two."""
    return secrets.token_urlsafe(16)


def checkbox(value: object) -> bool:
    return str(value or "") in ("1", "on", "true", "yes")
