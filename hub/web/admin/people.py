"""People: the list with search and filters, a person's page and the changes made there
(fields, roles, class, guardianships, teaching, consent, account)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from hub import directory
from hub.auth import accounts
from hub.auth.access import Action, Principal, can, require
from hub.errors import Conflict, NotFound, UserError
from hub.http.keys import DB, SESSIONS, SETTINGS
from hub.http.render import render
from hub.http.session import signed_in
from hub.notify.channel import PermanentFailure
from hub.school import (
    CONSENT_TITLES,
    ROLE_TITLES,
    TEACHING_ROLES,
    ConsentPurpose,
    Person,
    Role,
    SchoolError,
    add_guardianship,
    assign_teaching,
    classes_of_school,
    create_person,
    enrol,
    record_consent,
    set_roles,
    withdraw_consent,
)
from hub.web.admin.common import (
    class_or_404,
    form_int,
    form_text,
    path_id,
    person_or_404,
)
from mail.invitation import invitation_message, send_invitation

log = logging.getLogger("hub.admin")
routes = web.RouteTableDef()

DONE_MESSAGES = {
    "saved": "Изменения сохранены.",
    "created": "Человек добавлен.",
    "roles": "Роли изменены.",
    "class": "Класс изменён.",
    "guardianship": "Связь «родитель — ребёнок» изменена.",
    "teaching": "Преподавание изменено.",
    "consent": "Согласие записано.",
    "withdrawn": "Согласие отозвано.",
    "deactivated": "Учётная запись отключена, все сеансы завершены.",
    "activated": "Учётная запись включена.",
}


@routes.get("/admin/people")
async def people_list(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_PEOPLE)
    query = request.query
    role = query.get("role", "")
    chosen_role = Role(role) if role in Role.__members__.values() else None
    class_id = int(query["class"]) if query.get("class", "").isdigit() else None
    page = int(query["page"]) if query.get("page", "").isdigit() else 1
    async with request.app[DB].session() as session:
        result = await directory.search_people(
            session, principal.school_id, text=query.get("q", "")[:100], role=chosen_role,
            class_id=class_id, page=page,
        )
        classes = await classes_of_school(session, principal.school_id)
    pages = max(1, -(-result.total // directory.PAGE_SIZE))
    return render(request, "admin/people.html", {
        "result": result, "classes": classes, "q": query.get("q", ""),
        "role": chosen_role.value if chosen_role else "", "class_id": class_id,
        "page": min(page, pages), "pages": pages, "role_titles": ROLE_TITLES,
        "may_create": can(principal, Action.MANAGE_PEOPLE),
    })


@routes.get("/admin/people/new")
async def person_new(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_PEOPLE)
    return _new_form(request, principal, {}, None)


def _new_form(
    request: web.Request, principal: Principal, values: dict[str, Any], error: str | None,
    status: int = 200,
) -> web.Response:
    roles = [r for r in Role if can(principal, Action.MANAGE_ROLES)
             or r not in directory.PRIVILEGED_ROLES]
    return render(request, "admin/person_new.html", {
        "values": values, "error": error, "roles": roles, "role_titles": ROLE_TITLES,
    }, status=status)


@routes.post("/admin/people")
async def person_create(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_PEOPLE)
    form = await request.post()
    fields = {name: form_text(form, name) for name in (
        "last_name", "first_name", "middle_name", "email", "phone", "external_id")}
    chosen = [str(r) for r in form.getall("roles", [])]
    values = {**fields, "roles": chosen}  # what the form shows again on a refusal
    try:
        roles = {Role(r) for r in chosen}
    except ValueError:
        return _new_form(request, principal, values, "Неизвестная роль.", 422)
    if roles & directory.PRIVILEGED_ROLES:
        require(principal, Action.MANAGE_ROLES)
    if not fields["last_name"] or not fields["first_name"]:
        return _new_form(request, principal, values, "Укажите фамилию и имя.", 422)
    try:
        async with request.app[DB].transaction() as session:
            directory.check_contacts(fields["email"] or None, fields["phone"] or None)
            if fields["external_id"] and await directory.external_id_taken(
                session, principal.school_id, fields["external_id"]
            ):
                raise SchoolError(f"внешний код «{fields['external_id']}» уже занят")
            person = await create_person(
                session, principal.school_id, last_name=fields["last_name"],
                first_name=fields["first_name"], middle_name=fields["middle_name"],
                email=fields["email"], phone=fields["phone"],
                external_id=fields["external_id"], roles=roles,
            )
    except UserError as exc:
        return _new_form(request, principal, values, _sentence(exc), exc.status)
    log.info("person %s created by %s", person.id, principal.person_id)
    raise web.HTTPSeeOther(f"/admin/people/{person.id}?done=created")


def _sentence(exc: UserError) -> str:
    text = exc.message
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@routes.get("/admin/people/{id}")
async def person_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_PEOPLE)
    async with request.app[DB].session() as session:
        person = await person_or_404(session, principal.school_id, path_id(request))
        return await render_person(request, session, principal, person)


async def render_person(
    request: web.Request, session: AsyncSession, principal: Principal, person: Person,
    *, error: str | None = None, status: int = 200, issued: dict[str, str] | None = None,
) -> web.Response:
    details = await directory.person_details(session, person)
    students = await directory.people_with_role(session, principal.school_id, Role.STUDENT)
    parents = await directory.people_with_role(session, principal.school_id, Role.PARENT)
    invitation = (await directory.pending_invitation(session, details.account.id)
                  if details.account else None)
    done = DONE_MESSAGES.get(request.query.get("done", ""))
    return render(request, "admin/person.html", {
        "d": details, "p": person, "error": error, "done": None if error else done,
        "issued": issued, "invitation": invitation,
        "classes": await classes_of_school(session, principal.school_id),
        "students": [s for s in students if s.id != person.id],
        "parents": [g for g in parents if g.id != person.id],
        "all_roles": list(Role), "role_titles": ROLE_TITLES,
        "consent_titles": CONSENT_TITLES, "purposes": list(ConsentPurpose),
        "is_student": Role.STUDENT in person.roles,
        "is_parent": Role.PARENT in person.roles,
        "is_teacher": bool(person.roles & TEACHING_ROLES),
        "may": {
            "edit": can(principal, Action.MANAGE_PEOPLE),
            "roles": can(principal, Action.MANAGE_ROLES),
            "classes": can(principal, Action.MANAGE_CLASSES),
            "guardianships": can(principal, Action.MANAGE_GUARDIANSHIPS),
            "consent": can(principal, Action.RECORD_CONSENT),
            "accounts": can(principal, Action.ISSUE_ACCOUNTS),
            "export": can(principal, Action.EXPORT_PERSONAL_DATA),
            "erase": can(principal, Action.ERASE_PERSONAL_DATA),
        },
        "public_url": request.app[SETTINGS].public_url,
    }, status=status)


async def _change(
    request: web.Request, action: Action, done: str, change: Any,
) -> web.StreamResponse:
    """Run `change(session, principal, person, form)` in one transaction; on a refusal
    show the person's page with the message and change nothing."""
    principal, _ = signed_in(request)
    require(principal, action)
    form = await request.post()
    person_id = path_id(request)
    try:
        async with request.app[DB].transaction() as session:
            person = await person_or_404(session, principal.school_id, person_id)
            await change(session, principal, person, form)
    except NotFound:
        raise
    except UserError as exc:
        async with request.app[DB].session() as session:
            person = await person_or_404(session, principal.school_id, person_id)
            return await render_person(
                request, session, principal, person, error=_sentence(exc), status=exc.status
            )
    log.info("person %s: %s by %s", person_id, done, principal.person_id)
    raise web.HTTPSeeOther(f"/admin/people/{person_id}?done={done}")


@routes.post("/admin/people/{id}")
async def person_save(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        values = {name: form_text(form, name) for name in (
            "last_name", "first_name", "middle_name", "email", "phone", "external_id")}
        await directory.update_person(
            session, person, **{k: v for k, v in values.items() if v},
            clear=[k for k, v in values.items() if not v],
        )
        if not values["last_name"] or not values["first_name"]:
            raise SchoolError("фамилия и имя обязательны")

    return await _change(request, Action.MANAGE_PEOPLE, "saved", change)


@routes.post("/admin/people/{id}/roles")
async def person_roles(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        try:
            roles = {Role(str(r)) for r in form.getall("roles", [])}
        except ValueError:
            raise SchoolError("неизвестная роль") from None
        if person.id == principal.person_id and Role.SYSADMIN not in roles:
            raise SchoolError("нельзя снять с себя роль системного администратора")
        await set_roles(session, person, roles)

    return await _change(request, Action.MANAGE_ROLES, "roles", change)


@routes.post("/admin/people/{id}/class")
async def person_class(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        class_id = form_int(form, "class_id")
        if class_id is None:
            await directory.leave_class(session, person.id)
            return
        if Role.STUDENT not in person.roles:
            raise SchoolError("в класс зачисляют только обучающихся")
        await enrol(session, person, await class_or_404(session, principal.school_id,
                                                        class_id))

    return await _change(request, Action.MANAGE_CLASSES, "class", change)


@routes.post("/admin/people/{id}/guardianships")
async def person_guardianship(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        other_id = form_int(form, "other_id")
        if other_id is None:
            raise SchoolError("выберите человека")
        other = await person_or_404(session, principal.school_id, other_id)
        as_parent = form_text(form, "as") != "child"
        parent, child = (person, other) if as_parent else (other, person)
        if form_text(form, "op") == "remove":
            await directory.remove_guardianship(session, parent.id, child.id)
            return
        if Role.PARENT not in parent.roles:
            raise SchoolError("законным представителем может быть только человек с ролью "
                              "«родитель»")
        await add_guardianship(session, parent, child)

    return await _change(request, Action.MANAGE_GUARDIANSHIPS, "guardianship", change)


@routes.post("/admin/people/{id}/teaching")
async def person_teaching(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        class_id, subject = form_int(form, "class_id"), form_text(form, "subject")[:100]
        if class_id is None or not subject:
            raise SchoolError("укажите класс и предмет")
        school_class = await class_or_404(session, principal.school_id, class_id)
        if form_text(form, "op") == "remove":
            await directory.remove_teaching(session, person.id, school_class.id, subject)
            return
        if not person.roles & TEACHING_ROLES:
            raise SchoolError("класс назначают только учителю, логопеду или психологу")
        await assign_teaching(session, person, school_class, subject)

    return await _change(request, Action.MANAGE_CLASSES, "teaching", change)


@routes.post("/admin/people/{id}/consents")
async def person_consent(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        try:
            purpose = ConsentPurpose(form_text(form, "purpose"))
        except ValueError:
            raise SchoolError("неизвестная цель согласия") from None
        given_by = person
        given_by_id = form_int(form, "given_by")
        if given_by_id is not None and given_by_id != person.id:
            details = await directory.person_details(session, person)
            guardians = {g.id: g for g in details.guardians}
            if given_by_id not in guardians:
                raise SchoolError("согласие за ребёнка даёт только его законный представитель")
            given_by = guardians[given_by_id]
        recorder = (await directory.find_person(session, principal.school_id,
                                                principal.person_id)
                    if principal.person_id else None)
        await record_consent(session, person, purpose, given_by=given_by, recorded_by=recorder)

    return await _change(request, Action.RECORD_CONSENT, "consent", change)


@routes.post("/admin/people/{id}/consents/withdraw")
async def person_consent_withdraw(request: web.Request) -> web.StreamResponse:
    async def change(session: AsyncSession, principal: Principal, person: Person,
                     form: Any) -> None:
        try:
            purpose = ConsentPurpose(form_text(form, "purpose"))
        except ValueError:
            raise SchoolError("неизвестная цель согласия") from None
        await withdraw_consent(session, person.id, purpose)

    return await _change(request, Action.RECORD_CONSENT, "withdrawn", change)


@routes.post("/admin/people/{id}/account")
async def account_issue(request: web.Request) -> web.StreamResponse:
    """Create the account: the invitation link or the initial password is shown once."""
    principal, _ = signed_in(request)
    require(principal, Action.ISSUE_ACCOUNTS)
    form = await request.post()
    person_id = path_id(request)
    with_password = form_text(form, "mode") == "password"
    try:
        async with request.app[DB].transaction() as session:
            person = await person_or_404(session, principal.school_id, person_id)
            issued = await accounts.issue_account(
                session, person, form_text(form, "login"), with_password=with_password
            )
    except NotFound:
        raise
    except UserError as exc:
        async with request.app[DB].session() as session:
            person = await person_or_404(session, principal.school_id, person_id)
            return await render_person(request, session, principal, person,
                                       error=exc.message, status=exc.status)
    log.info("account %s issued for person %s by %s", issued.account.id, person_id,
             principal.person_id)
    emailed = None
    if issued.invitation_token and person.email:
        emailed = await _email_invitation(request, person, issued.account.login,
                                          issued.invitation_token)
    return await _show_issued(request, principal, person_id, issued.account.login,
                              issued.invitation_token, issued.initial_password, emailed)


async def _email_invitation(request: web.Request, person: Person, login: str,
                            token: str) -> str | None:
    """Send the invitation to the person's address; the address when it went."""
    settings = request.app[SETTINGS]
    try:
        message = invitation_message(
            settings, first_name=person.first_name, middle_name=person.middle_name,
            last_name=person.last_name, address=person.email or "", login=login,
            link=f"{settings.public_url}/invite/{token}")
    except PermanentFailure:
        return None
    return person.email if await send_invitation(settings, message) else None


async def _show_issued(
    request: web.Request, principal: Principal, person_id: int, login: str,
    invitation_token: str | None, password: str | None, emailed: str | None = None,
) -> web.Response:
    issued = {"login": login}
    if emailed:
        issued["emailed"] = emailed
    if invitation_token:
        issued["link"] = f"{request.app[SETTINGS].public_url}/invite/{invitation_token}"
    if password:
        issued["password"] = password
    async with request.app[DB].session() as session:
        person = await person_or_404(session, principal.school_id, person_id)
        response = await render_person(request, session, principal, person, issued=issued)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/admin/people/{id}/account/invite")
async def account_reinvite(request: web.Request) -> web.StreamResponse:
    """Reset: the password stops working, every session ends, a new link is shown once."""
    principal, _ = signed_in(request)
    require(principal, Action.ISSUE_ACCOUNTS)
    person_id = path_id(request)
    async with request.app[DB].transaction() as session:
        await person_or_404(session, principal.school_id, person_id)
        account = await directory.account_of(session, person_id)
        if account is None:
            raise NotFound("У этого человека нет учётной записи.")
        token = await directory.reset_by_invitation(session, account)
        account_id, login = account.id, account.login
    await request.app[SESSIONS].end_all(account_id)
    log.info("account %s reset by invitation by %s", account_id, principal.person_id)
    return await _show_issued(request, principal, person_id, login, token, None)


@routes.post("/admin/people/{id}/account/active")
async def account_active(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    require(principal, Action.ISSUE_ACCOUNTS)
    form = await request.post()
    person_id = path_id(request)
    active = form_text(form, "active") == "1"
    if person_id == principal.person_id and not active:
        raise Conflict("Нельзя отключить собственную учётную запись.")
    async with request.app[DB].transaction() as session:
        await person_or_404(session, principal.school_id, person_id)
        account = await directory.account_of(session, person_id)
        if account is None:
            raise NotFound("У этого человека нет учётной записи.")
        await directory.set_account_active(session, account, active)
        account_id = account.id
    if not active:
        await request.app[SESSIONS].end_all(account_id)
    log.info("account %s active=%s by %s", account_id, active, principal.person_id)
    raise web.HTTPSeeOther(
        f"/admin/people/{person_id}?done={'activated' if active else 'deactivated'}"
    )
