"""The notice board's pages: the board, an announcement, the form, acknowledgements,
attachments. Views parse, authorise (through forum.board / forum.audience), call a service,
render."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.exc import IntegrityError

from forum import attachments, audience, board
from forum.models import Audience, ClassTarget, Status
from forum.viewkit import (
    as_local_input,
    checkbox,
    ident,
    local_datetime,
    new_form_token,
)
from hub import clock
from hub.auth.access import Action, can, require
from hub.errors import Invalid, NotFound, UserError
from hub.http import fragments
from hub.http.fragments import FRAGMENTS, Fragment
from hub.http.keys import DB, SETTINGS
from hub.http.render import render
from hub.http.session import signed_in
from hub.notify.summary import delivery_summary

routes = web.RouteTableDef()

AUDIENCE_TITLES = {
    Audience.SCHOOL: "вся школа",
    Audience.STAFF: "только сотрудники",
    Audience.PARENTS: "только родители",
    Audience.CLASSES: "классы",
}
TARGET_TITLES = {
    ClassTarget.BOTH: "родители и обучающиеся",
    ClassTarget.PARENTS: "родители",
    ClassTarget.STUDENTS: "обучающиеся",
}


def _common() -> dict[str, object]:
    return {"audience_titles": AUDIENCE_TITLES, "target_titles": TARGET_TITLES,
            "Status": Status}


# What the board's rendered list is made from.
BOARD_TABLES = ("announcements", "announcement_classes", "announcement_attachments",
                "classes", "people")


async def _board_list(request: web.Request) -> Fragment:
    """The reader's board, rendered: one statement finds what they may read and their
    marks on it; readers with the same rows and marks share the rendered list."""
    principal, account = signed_in(request)
    require(principal, Action.READ_BOARD)
    stamp = fragments.stamp(request, BOARD_TABLES)
    cache = request.app[FRAGMENTS]
    async with request.app[DB].reading() as session:
        now = clock.now()
        rows = await board.board_rows(session, principal, now)
        key = ("board", principal.school_id, tuple(rows))
        fragment = cache.get(key, stamp)
        if fragment is None:
            entries = await board.board_entries(session, principal, [row.id for row in rows],
                                                now)
            fragment = Fragment(fragments.render_fragment(
                request, "forum/_board_list.html",
                {**_common(), "entries": entries, "account": account},
            ))
            cache.put(key, stamp, fragment)
    return fragment


@routes.get("/board")
async def board_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    board_list = await _board_list(request)
    return fragments.render_with(request, "forum/board.html", {
        "may_post": audience.may_post_announcements(principal),
        "school_id": principal.school_id,
        "deleted": request.query.get("deleted") == "1",
    }, "board_list", board_list)


@routes.get("/board/fragment")
async def board_fragment(request: web.Request) -> web.Response:
    """The board's list alone, for the live page."""
    return web.Response(body=fragments.personal(request, await _board_list(request)),
                        content_type="text/html", charset="utf-8")


async def _form_context(request: web.Request, values: dict[str, object]) -> dict[str, object]:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        classes = await board.class_choices(session, principal)
    return {
        **_common(), "classes": classes, "values": values,
        "may_address_school": audience.may_post_announcements(principal)
        and _may_address_school(request),
        "max_mb": attachments.MAX_SIZE // (1024 * 1024),
    }


def _may_address_school(request: web.Request) -> bool:
    principal, _ = signed_in(request)
    return can(principal, Action.POST_SCHOOL_ANNOUNCEMENT)


@routes.get("/board/new")
async def new_form(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    if not audience.may_post_announcements(principal):
        require(principal, Action.POST_ANNOUNCEMENT)
    values = {"title": "", "body": "", "audience": "classes", "class_ids": [],
              "class_target": "both", "pinned": False, "urgent": False, "publish_at": "",
              "expires_at": "", "form_token": new_form_token()}
    return render(request, "forum/announcement_form.html",
                  {**await _form_context(request, values), "error": None})


def _draft(form: MultiDictProxy[Any], zone: ZoneInfo) -> board.Draft:
    get = form.get
    try:
        chosen = Audience(str(get("audience", "")))
    except ValueError:
        raise Invalid("Выберите, кому адресовано объявление.") from None
    try:
        target = ClassTarget(str(get("class_target", "both") or "both"))
    except ValueError:
        raise Invalid("Неизвестная группа получателей в классе.") from None
    class_ids: list[int] = []
    for raw in form.getall("class_ids", []):
        try:
            class_ids.append(int(str(raw)))
        except ValueError:
            raise Invalid("Указан класс, которого нет в школе.") from None
    uploads = []
    for field in form.getall("files", []):
        if isinstance(field, web.FileField) and field.filename:
            uploads.append(attachments.Upload(field.filename, field.file.read()))
    return board.Draft(
        title=str(get("title", "")), body=str(get("body", "")), audience=chosen,
        class_ids=class_ids, class_target=target, pinned=checkbox(get("pinned")),
        urgent=checkbox(get("urgent")),
        publish_at=local_datetime(get("publish_at"), zone, "Дата публикации"),
        expires_at=local_datetime(get("expires_at"), zone, "Дата снятия"),
        form_token=str(get("form_token", ""))[:64] or None, uploads=uploads,
    )


@routes.post("/board/new")
async def create(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    form = await request.post()
    settings = request.app[SETTINGS]
    values = {
        "title": str(form.get("title", "")), "body": str(form.get("body", "")),
        "audience": str(form.get("audience", "")),
        "class_ids": [str(c) for c in form.getall("class_ids", [])],
        "class_target": str(form.get("class_target", "both")),
        "pinned": checkbox(form.get("pinned")), "urgent": checkbox(form.get("urgent")),
        "publish_at": str(form.get("publish_at", "")),
        "expires_at": str(form.get("expires_at", "")),
        "form_token": str(form.get("form_token", "")) or new_form_token(),
    }
    try:
        draft = _draft(form, settings.tz)
        try:
            async with request.app[DB].transaction() as session:
                posted = await board.create_announcement(
                    session, principal, draft, data_dir=settings.data_dir
                )
        except IntegrityError:  # the same form, submitted twice at the same moment
            async with request.app[DB].transaction() as session:
                posted = await board.create_announcement(
                    session, principal, draft, data_dir=settings.data_dir
                )
    except UserError as exc:
        context = await _form_context(request, values)
        return render(request, "forum/announcement_form.html",
                      {**context, "error": exc.message}, status=exc.status)
    raise web.HTTPSeeOther(f"/board/{posted.announcement.id}")


@routes.get("/board/{id}")
async def show(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    async with request.app[DB].transaction() as session:
        announcement = await board.get_readable(session, principal, ident(request))
        entry = await board.entry(session, principal, announcement)
        await board.mark_announcement_read(session, principal, announcement.id)
    return render(request, "forum/announcement.html", {
        **_common(), "entry": entry, "a": announcement,
        "is_editor": _is_editor(request, announcement),
        "may_see_acks": audience.may_see_acks(principal, announcement),
    })


def _is_editor(request: web.Request, announcement: object) -> bool:
    principal, _ = signed_in(request)
    return (getattr(announcement, "author_id", None) == principal.person_id
            or _may_address_school(request))


@routes.post("/board/{id}/ack")
async def ack(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    announcement_id = ident(request)
    async with request.app[DB].transaction() as session:
        await board.acknowledge(session, principal, announcement_id)
    raise web.HTTPSeeOther(f"/board/{announcement_id}")


@routes.get("/board/{id}/acks")
async def acks(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        announcement, groups = await board.ack_report(session, principal, ident(request))
        delivery = await delivery_summary(session, "announcement", announcement.id)
    reminded = request.query.get("reminded")
    return render(request, "forum/acks.html", {
        **_common(), "a": announcement, "groups": groups, "reminded": reminded,
        "delivery": delivery,
    })


@routes.post("/board/{id}/remind")
async def remind(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    announcement_id = ident(request)
    async with request.app[DB].transaction() as session:
        count = await board.remind(session, principal, announcement_id)
    raise web.HTTPSeeOther(f"/board/{announcement_id}/acks?reminded={count}")


@routes.get("/board/{id}/edit")
async def edit_form(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        announcement = await board.get_readable(session, principal, ident(request))
    if not _is_editor(request, announcement):
        require(principal, Action.POST_SCHOOL_ANNOUNCEMENT)
    zone = request.app[SETTINGS].tz
    values = {"title": announcement.title, "body": announcement.body_source,
              "pinned": announcement.pinned, "urgent": announcement.urgent,
              "expires_at": as_local_input(announcement.expires_at, zone)}
    return render(request, "forum/announcement_edit.html",
                  {"a": announcement, "values": values, "error": None})


@routes.post("/board/{id}/edit")
async def edit(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    announcement_id = ident(request)
    form = await request.post()
    title, body = str(form.get("title", "")), str(form.get("body", ""))
    pinned, urgent = checkbox(form.get("pinned")), checkbox(form.get("urgent"))
    values: dict[str, object] = {"title": title, "body": body, "pinned": pinned,
                                 "urgent": urgent, "expires_at": str(form.get("expires_at", ""))}
    try:
        async with request.app[DB].transaction() as session:
            await board.edit_announcement(
                session, principal, announcement_id, title=title, body=body, pinned=pinned,
                urgent=urgent,
                expires_at=local_datetime(values["expires_at"], request.app[SETTINGS].tz,
                                          "Дата снятия"),
            )
    except NotFound:
        raise
    except UserError as exc:
        async with request.app[DB].session() as session:
            announcement = await board.get_readable(session, principal, announcement_id)
        return render(request, "forum/announcement_edit.html",
                      {"a": announcement, "values": values, "error": exc.message},
                      status=exc.status)
    raise web.HTTPSeeOther(f"/board/{announcement_id}")


@routes.get("/board/{id}/history")
async def history(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        announcement = await board.get_readable(session, principal, ident(request))
        if not _is_editor(request, announcement):
            require(principal, Action.VIEW_ACK_REPORT)
        earlier = await board.revisions(session, announcement.id)
    return render(request, "forum/history.html", {"a": announcement, "revisions": earlier})


@routes.post("/board/{id}/delete")
async def delete(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    async with request.app[DB].transaction() as session:
        await board.delete_announcement(session, principal, ident(request))
    raise web.HTTPSeeOther("/board?deleted=1")


@routes.get("/board/files/{id}")
async def download(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        attachment = await board.attachment_for(session, principal, ident(request))
    path = attachments.path_of(request.app[SETTINGS].data_dir, attachment.stored_name)
    if not path.is_file():
        raise NotFound("Файл не найден.")
    response = web.FileResponse(path, headers={
        "Content-Type": attachment.content_type,
        "Content-Disposition": _disposition(attachment.shown_name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })
    return response


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_"
                         for c in filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
