"""Small helpers the administration views share: ids from the path, form values."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory import find_class, find_person
from hub.errors import NotFound
from hub.school import Person, SchoolClass, SchoolError


def path_id(request: web.Request, name: str = "id") -> int:
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound("Нет такой страницы.")
    return int(value)


def form_int(form: MultiDictProxy[str | bytes | web.FileField], name: str) -> int | None:
    """The field as an id; None when it is empty. A value that is not an id is an error
    (never read as "nothing chosen"), so bad input changes nothing."""
    value = str(form.get(name, "")).strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise SchoolError(f"поле {name}: ожидается номер")
    return int(value)


def form_text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


async def person_or_404(session: AsyncSession, school_id: int, person_id: int) -> Person:
    person = await find_person(session, school_id, person_id)
    if person is None:
        raise NotFound("Такого человека в школе нет.")
    return person


async def class_or_404(session: AsyncSession, school_id: int, class_id: int) -> SchoolClass:
    school_class = await find_class(session, school_id, class_id)
    if school_class is None:
        raise NotFound("Такого класса в школе нет.")
    return school_class
