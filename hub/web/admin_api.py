"""The administration's JSON API under /api/v1: people, classes, guardianships, consent,
personal-data export and erasure. Authenticated by the session (with the X-CSRF-Token
header) or by an API token with the admin scope; every route asks hub.auth.access and
every object is looked up within the principal's school."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from hub import directory
from hub.auth.access import Action, Principal, can, require
from hub.errors import Conflict, Invalid, NotFound
from hub.http.api import ApiModel, add_endpoint, read_json
from hub.http.body import read_body
from hub.http.keys import DB, PRIVACY_SOURCES, SESSIONS
from hub.http.session import current_principal
from hub.importer import MAX_FILE_BYTES, import_people
from hub.privacy import erase_person, export_person
from hub.school import (
    ConsentPurpose,
    Person,
    Role,
    add_guardianship,
    create_person,
    enrol,
    normalise_class_name,
    record_consent,
    set_roles,
    withdraw_consent,
)

log = logging.getLogger("hub.api")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OptionalName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32,
                                         pattern=r"^$|^\+?[0-9 ()\-]{5,20}$")]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
ClassName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]


class PersonCreate(ApiModel):
    last_name: Name
    first_name: Name
    middle_name: OptionalName | None = None
    email: Email | None = None
    phone: Phone | None = None
    external_id: ExternalId | None = None
    roles: list[Role] = Field(default_factory=list, max_length=len(Role))
    class_name: ClassName | None = Field(default=None, description="a student's class: 5А")


class PersonPatch(ApiModel):
    """Only the fields sent change; null clears an optional field (or leaves the class)."""

    last_name: Name | None = None
    first_name: Name | None = None
    middle_name: OptionalName | None = None
    email: Email | None = None
    phone: Phone | None = None
    external_id: ExternalId | None = None
    roles: list[Role] | None = Field(default=None, max_length=len(Role))
    class_name: ClassName | None = None


class PersonOut(BaseModel):
    id: int
    last_name: str
    first_name: str
    middle_name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    roles: list[Role]
    class_name: str | None
    children_ids: list[int]
    guardian_ids: list[int]


class PeopleOut(BaseModel):
    people: list[PersonOut]
    total: int
    page: int


class ClassCreate(ApiModel):
    name: ClassName


class ClassOut(BaseModel):
    id: int
    name: str
    students: int


class ClassesOut(BaseModel):
    classes: list[ClassOut]


class GuardianshipIn(ApiModel):
    parent_id: int = Field(gt=0)
    child_id: int = Field(gt=0)


class GuardianshipOut(BaseModel):
    parent_id: int
    child_id: int


class ConsentIn(ApiModel):
    purpose: ConsentPurpose
    given_by_id: int | None = Field(
        default=None, gt=0, description="a guardian giving consent for a child; default: self"
    )
    withdraw: bool = False


class ConsentOut(BaseModel):
    person_id: int
    purpose: ConsentPurpose
    given_by_id: int | None
    withdrawn: bool


class ErasedOut(BaseModel):
    id: int
    erased: bool


def _id(request: web.Request, name: str = "id") -> int:
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound("Нет такого человека.")
    return int(value)


async def _person(session: AsyncSession, principal: Principal, person_id: int) -> Person:
    person = await directory.find_person(session, principal.school_id, person_id)
    if person is None:
        raise NotFound("Нет такого человека в школе.")
    return person


async def _out(session: AsyncSession, person: Person) -> PersonOut:
    details = await directory.person_details(session, person)
    return PersonOut(
        id=person.id, last_name=person.last_name, first_name=person.first_name,
        middle_name=person.middle_name, email=person.email, phone=person.phone,
        external_id=person.external_id, roles=sorted(person.roles),
        class_name=details.school_class.name if details.school_class else None,
        children_ids=[c.id for c in details.children],
        guardian_ids=[g.id for g in details.guardians],
    )


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


async def list_people(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.VIEW_PEOPLE)
    query = request.query
    problems = [
        {"field": name, "message": "ожидается положительное целое число"}
        for name in ("class_id", "page")
        if name in query and not (query[name].isdigit() and 0 < len(query[name]) <= 9)
    ]
    role = query.get("role")
    if role is not None and role not in set(Role):
        problems.append({"field": "role", "message": "неизвестная роль"})
    if problems:
        raise Invalid("Неверные параметры запроса.", details=problems)
    page = int(query.get("page", "1")) or 1
    async with request.app[DB].session() as session:
        result = await directory.search_people(
            session, principal.school_id, text=query.get("q", "")[:100],
            role=Role(role) if role else None,
            class_id=int(query["class_id"]) if "class_id" in query else None, page=page,
        )
        people = [await _out(session, p) for p in result.people]
    return _json(PeopleOut(people=people, total=result.total, page=page))


async def create_person_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.MANAGE_PEOPLE)
    body = await read_json(request, PersonCreate)
    roles = set(body.roles)
    if roles & directory.PRIVILEGED_ROLES:
        require(principal, Action.MANAGE_ROLES)
    if body.class_name is not None:
        require(principal, Action.MANAGE_CLASSES)
        if Role.STUDENT not in roles:
            raise Invalid("Класс указывают только обучающемуся.",
                          details=[{"field": "class_name", "message": "нужна роль student"}])
    async with request.app[DB].transaction() as session:
        if body.external_id and await directory.external_id_taken(
            session, principal.school_id, body.external_id
        ):
            raise Conflict(f"Внешний код «{body.external_id}» уже занят.")
        school_class = None
        if body.class_name is not None:
            school_class = await _class_by_name(session, principal, body.class_name)
        person = await create_person(
            session, principal.school_id, last_name=body.last_name,
            first_name=body.first_name, middle_name=body.middle_name, email=body.email,
            phone=body.phone, external_id=body.external_id, roles=roles,
        )
        if school_class is not None:
            await enrol(session, person, school_class)
        out = await _out(session, person)
    log.info("person %s created over the API", out.id)
    return _json(out, 201)


async def _class_by_name(session: AsyncSession, principal: Principal, name: str) -> Any:
    school_class = await directory.find_class_by_name(
        session, principal.school_id, normalise_class_name(name)
    )
    if school_class is None:
        raise Invalid(f"Нет класса {name}.",
                      details=[{"field": "class_name", "message": "нет такого класса"}])
    return school_class


async def get_person(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.VIEW_PEOPLE)
    async with request.app[DB].session() as session:
        person = await _person(session, principal, _id(request))
        return _json(await _out(session, person))


async def patch_person(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.MANAGE_PEOPLE)
    person_id = _id(request)
    body = await read_json(request, PersonPatch)
    sent = body.model_fields_set
    for required in ("last_name", "first_name"):
        if required in sent and getattr(body, required) is None:
            raise Invalid("Данные не прошли проверку.",
                          details=[{"field": required, "message": "не может быть пустым"}])
    if "roles" in sent:
        require(principal, Action.MANAGE_ROLES)
        if body.roles is None:
            raise Invalid("Данные не прошли проверку.", details=[
                {"field": "roles", "message": "список ролей, может быть пустым"}])
    if "class_name" in sent:
        require(principal, Action.MANAGE_CLASSES)
    async with request.app[DB].transaction() as session:
        person = await _person(session, principal, person_id)
        fields = {
            name: getattr(body, name) for name in (
                "last_name", "first_name", "middle_name", "email", "phone", "external_id")
            if name in sent
        }
        await directory.update_person(
            session, person, **{k: v for k, v in fields.items() if v},
            clear=[k for k, v in fields.items() if not v],
        )
        if body.roles is not None:
            await set_roles(session, person, body.roles)
        if "class_name" in sent:
            if body.class_name is None:
                await directory.leave_class(session, person.id)
            else:
                if Role.STUDENT not in person.roles:
                    raise Invalid("Класс указывают только обучающемуся.", details=[
                        {"field": "class_name", "message": "нужна роль student"}])
                await enrol(session, person,
                            await _class_by_name(session, principal, body.class_name))
        out = await _out(session, person)
    log.info("person %s changed over the API", person_id)
    return _json(out)


async def list_classes(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.VIEW_PEOPLE)
    async with request.app[DB].session() as session:
        summaries = await directory.class_summaries(session, principal.school_id)
    return _json(ClassesOut(classes=[
        ClassOut(id=s.school_class.id, name=s.school_class.name, students=s.students)
        for s in summaries
    ]))


async def create_class_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.MANAGE_CLASSES)
    body = await read_json(request, ClassCreate)
    async with request.app[DB].transaction() as session:
        name = normalise_class_name(body.name)
        if await directory.find_class_by_name(session, principal.school_id, name):
            raise Conflict(f"Класс {name} уже есть.")
        school_class = await directory.create_class(session, principal.school_id, name)
    return _json(ClassOut(id=school_class.id, name=school_class.name, students=0), 201)


async def add_guardianship_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.MANAGE_GUARDIANSHIPS)
    body = await read_json(request, GuardianshipIn)
    async with request.app[DB].transaction() as session:
        parent = await _person(session, principal, body.parent_id)
        child = await _person(session, principal, body.child_id)
        if Role.PARENT not in parent.roles:
            raise Invalid("У законного представителя нет роли parent.",
                          details=[{"field": "parent_id", "message": "нужна роль parent"}])
        await add_guardianship(session, parent, child)
    return _json(GuardianshipOut(parent_id=parent.id, child_id=child.id), 201)


async def remove_guardianship_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.MANAGE_GUARDIANSHIPS)
    body = await read_json(request, GuardianshipIn)
    async with request.app[DB].transaction() as session:
        await _person(session, principal, body.parent_id)
        await _person(session, principal, body.child_id)
        if not await directory.remove_guardianship(session, body.parent_id, body.child_id):
            raise NotFound("Такой связи нет.")
    return _json(GuardianshipOut(parent_id=body.parent_id, child_id=body.child_id))


async def consent_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.RECORD_CONSENT)
    person_id = _id(request)
    body = await read_json(request, ConsentIn)
    async with request.app[DB].transaction() as session:
        person = await _person(session, principal, person_id)
        if body.withdraw:
            await withdraw_consent(session, person.id, body.purpose)
            return _json(ConsentOut(person_id=person.id, purpose=body.purpose,
                                    given_by_id=None, withdrawn=True))
        given_by = person
        if body.given_by_id is not None and body.given_by_id != person.id:
            details = await directory.person_details(session, person)
            guardians = {g.id: g for g in details.guardians}
            if body.given_by_id not in guardians:
                raise Invalid("Согласие за ребёнка даёт только его законный представитель.",
                              details=[{"field": "given_by_id",
                                        "message": "не законный представитель"}])
            given_by = guardians[body.given_by_id]
        recorder = (await directory.find_person(session, principal.school_id,
                                                principal.person_id)
                    if principal.person_id else None)
        await record_consent(session, person, body.purpose, given_by=given_by,
                             recorded_by=recorder)
    return _json(ConsentOut(person_id=person.id, purpose=body.purpose,
                            given_by_id=given_by.id, withdrawn=False), 201)


async def export_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.EXPORT_PERSONAL_DATA)
    person_id = _id(request)
    async with request.app[DB].session() as session:
        await _person(session, principal, person_id)
        data = await export_person(session, person_id, request.app[PRIVACY_SOURCES])
    log.info("personal data of person %s exported over the API", person_id)
    return web.json_response(data, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def erase_view(request: web.Request) -> web.Response:
    principal = current_principal(request)
    require(principal, Action.ERASE_PERSONAL_DATA)
    person_id = _id(request)
    if person_id == principal.person_id:
        raise Conflict("Нельзя удалить собственные данные.")
    async with request.app[DB].transaction() as session:
        await _person(session, principal, person_id)
        account_id = await erase_person(session, person_id, request.app[PRIVACY_SOURCES])
    if account_id is not None:
        await request.app[SESSIONS].end_all(account_id)
    log.info("person %s erased over the API", person_id)
    return _json(ErasedOut(id=person_id, erased=True))


class ImportOut(BaseModel):
    created: int
    updated: int
    classes_created: list[str]
    guardianships_added: int


async def import_view(request: web.Request) -> web.Response:
    """A CSV file (docs/import.md) as the body: all rows imported, or none and 422 with
    every problem by line."""
    principal = current_principal(request)
    require(principal, Action.IMPORT_PEOPLE)
    data = await read_body(request, MAX_FILE_BYTES)
    async with request.app[DB].transaction() as session:
        report = await import_people(
            session, principal.school_id, data,
            may_grant_roles=can(principal, Action.MANAGE_ROLES),
        )
    log.info("import over the API: %d created, %d updated", report.created, report.updated)
    return _json(ImportOut(
        created=report.created, updated=report.updated,
        classes_created=report.classes_created,
        guardianships_added=report.guardianships_added,
    ))


def setup(app: web.Application) -> None:
    add_endpoint(app, "GET", "/api/v1/people", list_people, response=PeopleOut,
                 summary="Люди школы: поиск (q), фильтр по роли (role) и классу (class_id)")
    add_endpoint(app, "POST", "/api/v1/people", create_person_view, request=PersonCreate,
                 response=PersonOut, status=201, summary="Добавить человека")
    add_endpoint(app, "GET", "/api/v1/people/{id}", get_person, response=PersonOut,
                 summary="Человек")
    add_endpoint(app, "PATCH", "/api/v1/people/{id}", patch_person, request=PersonPatch,
                 response=PersonOut, summary="Изменить человека (только переданные поля)")
    add_endpoint(app, "DELETE", "/api/v1/people/{id}", erase_view, response=ErasedOut,
                 summary="Удалить персональные данные человека (152-ФЗ)")
    add_endpoint(app, "GET", "/api/v1/people/{id}/export", export_view,
                 summary="Всё, что хранится о человеке (152-ФЗ)")
    add_endpoint(app, "POST", "/api/v1/people/{id}/consents", consent_view,
                 request=ConsentIn, response=ConsentOut, status=201,
                 summary="Записать или отозвать согласие")
    add_endpoint(app, "POST", "/api/v1/people/import", import_view, response=ImportOut,
                 summary="Импорт людей и классов: тело — файл CSV (text/csv, UTF-8), "
                 "формат в docs/import.md")
    add_endpoint(app, "GET", "/api/v1/classes", list_classes, response=ClassesOut,
                 summary="Классы школы")
    add_endpoint(app, "POST", "/api/v1/classes", create_class_view, request=ClassCreate,
                 response=ClassOut, status=201, summary="Создать класс")
    add_endpoint(app, "POST", "/api/v1/guardianships", add_guardianship_view,
                 request=GuardianshipIn, response=GuardianshipOut, status=201,
                 summary="Связать родителя и ребёнка")
    add_endpoint(app, "DELETE", "/api/v1/guardianships", remove_guardianship_view,
                 request=GuardianshipIn, response=GuardianshipOut,
                 summary="Убрать связь родителя и ребёнка")
