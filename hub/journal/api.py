"""The journal's JSON API: the school's journal pushes grades (POST /api/v1/grades) and
attendance (POST /api/v1/attendance) in batches of up to 1,000 items.

A view parses the body into inputs and calls `record`; refusals (403, 413 for too many
items, 422 listing each bad item by index) are hub.errors.UserErrors that the error
middleware renders as {"error": ..., "details": [...]}.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.auth.access import AccessDenied, Action, Principal, classes_for
from hub.errors import Conflict
from hub.http.api import ApiModel, add_endpoint, read_json
from hub.http.keys import DB, SETTINGS
from hub.http.session import current_principal
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import AttendanceStatus, Source
from hub.journal.record import ATTENDANCE, GRADES, Item, Kind, record

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 3


def setup(app: web.Application) -> None:
    add_endpoint(app, "POST", "/api/v1/grades", api_grades, summary="Оценки из журнала",
                 request=GradesBatch, response=BatchAnswer, tag="journal")
    add_endpoint(app, "POST", "/api/v1/attendance", api_attendance,
                 summary="Посещаемость из журнала", request=AttendanceBatch,
                 response=BatchAnswer, tag="journal")


class _ItemBase(ApiModel):
    source_id: str = Field(description=(
        "Идентификатор записи в журнале (для идемпотентности). Свой у каждого токена и "
        "каждого пользователя; повтор идентификатора обновляет запись того же ученика, "
        "другого ученика он не может назвать"))
    student_id: int | None = Field(None, description="id ученика в school-hub")
    student_external_id: str | None = Field(None, description="id ученика в журнале")
    class_name: str | None = Field(None, description="Класс, например 5А (проверяется)")
    date: dt.date
    comment: str | None = None


class GradeItem(_ItemBase):
    subject: str
    value: int = Field(description="2, 3, 4 или 5")
    work_type: str | None = None


class AttendanceItem(_ItemBase):
    status: AttendanceStatus
    subject: str | None = None
    lesson_number: int | None = None


class GradesBatch(ApiModel):
    items: list[GradeItem]


class AttendanceBatch(ApiModel):
    items: list[AttendanceItem]


class BatchAnswer(BaseModel):
    created: int
    updated: int
    unchanged: int
    ids: list[int] = Field(description="id записей в порядке пакета (0 — ничего не создано)")


def _api_principal(request: web.Request) -> Principal:
    principal = current_principal(request)
    if not classes_for(principal, Action.ENTER_GRADES):
        raise AccessDenied(Action.ENTER_GRADES)
    return principal


def _ref(item: _ItemBase) -> StudentRef:
    return StudentRef(person_id=item.student_id, external_id=item.student_external_id or None)


async def api_grades(request: web.Request) -> web.Response:
    principal = _api_principal(request)
    batch = await read_json(request, GradesBatch)
    items = [
        GradeInput(student=_ref(i), subject=i.subject, lesson_date=i.date, value=i.value,
                   source_id=i.source_id, class_name=i.class_name, work_type=i.work_type,
                   comment=i.comment)
        for i in batch.items
    ]
    return await _store(request, principal, GRADES, items)


async def api_attendance(request: web.Request) -> web.Response:
    principal = _api_principal(request)
    batch = await read_json(request, AttendanceBatch)
    items = [
        AttendanceInput(student=_ref(i), lesson_date=i.date, status=i.status,
                        source_id=i.source_id, class_name=i.class_name, subject=i.subject,
                        lesson_number=i.lesson_number, comment=i.comment)
        for i in batch.items
    ]
    return await _store(request, principal, ATTENDANCE, items)


async def _store(
    request: web.Request, principal: Principal, kind: Kind[Item, Any], items: Sequence[Item]
) -> web.Response:
    """Record the batch; a refusal (TooLarge, JournalRejected) goes to the error middleware.
    A batch that collided with another request storing the same items runs again."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            async with request.app[DB].transaction() as session:
                result = await record(session, kind, principal.school_id, items, by=principal,
                                      source=Source.API, tz=request.app[SETTINGS].tz)
            break
        except (IntegrityError, OperationalError) as exc:
            # Another request stored some of the same items first (or held SQLite's write
            # lock): this whole batch rolled back; run it again, now seeing theirs.
            if isinstance(exc, OperationalError) and "locked" not in str(exc):
                raise
            log.info("journal batch conflicted (attempt %d), retrying", attempt + 1)
            await asyncio.sleep(0.05 * (attempt + 1))
    else:
        raise Conflict("Те же записи сейчас сохраняет другой запрос. Повторите пакет: "
                       "уже сохранённые записи не будут продублированы.")
    answer = BatchAnswer(created=result.created, updated=result.updated,
                         unchanged=result.unchanged, ids=result.ids)
    return web.json_response(answer.model_dump())
