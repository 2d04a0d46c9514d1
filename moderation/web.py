"""The moderators' pages: the flagged queue, an item with its actions, bulk decisions,
watched words, the audit log. Views parse, authorise, call moderation's services, render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy

from hub import clock
from hub.auth.access import Action, Principal, can, require
from hub.errors import Conflict, NotFound, UserError
from hub.http.keys import DB, NAV, PRINCIPAL, NavItem
from hub.http.render import render
from hub.http.session import signed_in
from moderation import audit, queue, sanctions, watched
from moderation.highlight import CATEGORY_TITLES, highlight, rule_title, text_of
from moderation.models import ItemSource, ItemStatus, ReviewItem
from moderation.targets import TargetView

STATIC = Path(__file__).parent / "static"
SOURCE_TITLES = {"detector": "детектор", "report": "жалобы", "watched": "стоп-слово"}
STATUS_TITLES = {"pending": "ждёт решения", "approved": "одобрено", "rejected": "отклонено"}
KIND_TITLES = {"announcement": "объявление", "topic": "тема", "post": "сообщение"}
MUTE_CHOICES = {"1": "1 час", "24": "1 день", "72": "3 дня", "168": "неделя", "720": "30 дней"}

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app.router.add_static("/moderation/static/", STATIC, name="moderation_static")
    app[NAV].append(NavItem("Модерация", "/moderation/queue",
                            visible=lambda p: can(p, Action.MODERATE), order=70,
                            badge=_pending_badge, badge_tables=("review_items",)))
    app[NAV].append(NavItem("Стоп-слова", "/moderation/words",
                            visible=lambda p: can(p, Action.MANAGE_WATCHED_WORDS)
                            and not can(p, Action.MODERATE), order=71))
    app[NAV].append(NavItem("Журнал модерации", "/moderation/audit",
                            visible=lambda p: can(p, Action.READ_AUDIT_LOG), order=72))


async def _pending_badge(request: web.Request) -> int:
    principal = request[PRINCIPAL]
    if principal is None:
        return 0
    async with request.app[DB].session() as session:
        return await queue.pending_count(session, principal.school_id)


# -- helpers --------------------------------------------------------------------------------


def _moderator(request: web.Request) -> Principal:
    principal, _ = signed_in(request)
    require(principal, Action.MODERATE)
    return principal


def _me(principal: Principal) -> int:
    assert principal.person_id is not None  # signed_in: a person, not a token
    return principal.person_id


def _item_id(request: web.Request) -> int:
    return int(request.match_info["item_id"])


def _opt_int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise UserError("Неверное число в запросе.") from None


@dataclass(frozen=True)
class Entry:
    """One queue item as the pages show it."""

    item: ReviewItem
    view: TargetView | None
    author: str
    title_html: Markup
    text_html: Markup
    plain: str  # the text as a moderator reads and edits it
    reasons: list[str]
    categories: list[str]
    reports: list[tuple[str, str]]
    claimed_by: str
    claimed: bool  # claimed by someone else, still running
    decided_by: str
    default_reason: str = ""  # the canned reason that matches what the detector found


# The canned reason a rejection starts from, by the detector's category (first match wins).
REASON_BY_CATEGORY = (
    ("obscene", "Нецензурная лексика"),
    ("insult", "Оскорбление участников"),
    ("threat", "Оскорбление участников"),
    ("rude", "Грубость и неуважительный тон"),
)


def default_reason(categories: list[str]) -> str:
    for category, reason in REASON_BY_CATEGORY:
        if category in categories:
            return reason
    return ""


async def _entries(session: Any, items: list[ReviewItem], me: int,
                   with_reports: bool = False) -> list[Entry]:
    names = await queue.names_of(
        session, {i.author_id for i in items} | {i.claimed_by_id for i in items}
        | {i.decided_by_id for i in items},
    )
    now = clock.now()
    out = []
    for item in items:
        view = await queue.target_view(session, item)
        reasons = (item.verdict or {}).get("reasons", [])
        plain = text_of(view.text) if view else ""
        reports: list[tuple[str, str]] = []
        if with_reports:
            rows = await queue.reports_of(session, item.id)
            reporter_names = await queue.names_of(session, {r.reporter_id for r in rows})
            reports = [(reporter_names.get(r.reporter_id, "—"), r.reason) for r in rows]
        out.append(Entry(
            item=item,
            view=view,
            author=names.get(item.author_id or 0, "—"),
            title_html=highlight(view.title, reasons, title=True) if view else Markup(""),
            text_html=highlight(plain, reasons) if view else Markup(
                "<em>Сообщение недоступно.</em>"),
            plain=plain,
            reasons=list(dict.fromkeys(
                f"{rule_title(r['rule'])}: «{r['matched']}»" if r.get("matched")
                and r["rule"] != "model" else rule_title(r["rule"]) for r in reasons
            )),
            categories=[CATEGORY_TITLES.get(c, c)
                        for c in (item.verdict or {}).get("categories", [])],
            reports=reports,
            claimed_by=names.get(item.claimed_by_id or 0, ""),
            claimed=bool(item.claimed_by_id and item.claimed_by_id != me
                         and item.claimed_until and item.claimed_until > now),
            decided_by=names.get(item.decided_by_id or 0, ""),
            default_reason=default_reason((item.verdict or {}).get("categories", [])),
        ))
    return out


def _common() -> dict[str, Any]:
    return {"source_titles": SOURCE_TITLES, "status_titles": STATUS_TITLES,
            "kind_titles": KIND_TITLES, "reject_reasons": queue.REJECT_REASONS,
            "mute_choices": MUTE_CHOICES}


# -- the queue --------------------------------------------------------------------------------


@routes.get("/moderation/queue")
async def queue_page(request: web.Request) -> web.Response:
    principal = _moderator(request)
    query = request.query
    source = query.get("source") or None
    status = query.get("status") or "pending"
    if (source and source not in SOURCE_TITLES) or status not in STATUS_TITLES:
        raise UserError("Неверный фильтр.")
    filters = queue.QueueFilter(
        section=query.get("section") or None,
        source=ItemSource(source) if source else None,
        author_id=_opt_int(query.get("author")),
        status=ItemStatus(status),
    )
    async with request.app[DB].session() as session:
        items = list(await queue.items(session, principal.school_id, filters))
        entries = await _entries(session, items, _me(principal))
        sections = await queue.sections(session, principal.school_id)
        authors = await queue.names_of(session, {i.author_id for i in items})
        count = await queue.pending_count(session, principal.school_id)
        done = None
        done_id = _opt_int(query.get("done"))
        if done_id is not None:
            try:
                done = await queue.get_item(session, principal.school_id, done_id)
            except queue.ItemNotFound:
                done = None
    return render(request, "moderation/queue.html", {
        **_common(), "entries": entries, "filters": filters, "sections": sections,
        "authors": authors, "pending": count, "done": done,
        "school_id": principal.school_id, "me": _me(principal),
    })


@routes.get(r"/moderation/items/{item_id:\d+}")
async def item_page(request: web.Request) -> web.Response:
    principal = _moderator(request)
    return await _render_item(request, principal, _item_id(request))


async def _render_item(request: web.Request, principal: Principal, item_id: int, *,
                       error: str = "", status: int = 200,
                       form: MultiDictProxy[Any] | None = None) -> web.Response:
    async with request.app[DB].session() as session:
        item = await queue.get_item(session, principal.school_id, item_id)
        entry = (await _entries(session, [item], _me(principal), with_reports=True))[0]
        history = await audit.entries(session, principal.school_id, item_id=item.id)
        actor_names = await queue.names_of(session, {e.actor_id for e in history})
    undo_open = (
        item.status is not ItemStatus.PENDING and item.decided_at is not None
        and item.decided_at > clock.now() - queue.UNDO_WITHIN
        and (item.decided_by_id == principal.person_id
             or can(principal, Action.UNDO_ANY_DECISION))
    )
    return render(request, "moderation/item.html", {
        **_common(), "entry": entry, "item": item, "error": error, "form": form or {},
        "history": history, "actor_names": actor_names, "action_titles": audit.ACTION_TITLES,
        "undo_open": undo_open, "can_sanction": can(principal, Action.SANCTION_AUTHOR),
        "school_id": principal.school_id,
    }, status=status)


def _back(form: MultiDictProxy[Any], item_id: int) -> web.HTTPSeeOther:
    if form.get("back") == "queue":
        return web.HTTPSeeOther(f"/moderation/queue?done={item_id}")
    return web.HTTPSeeOther(f"/moderation/items/{item_id}")


async def _act(request: web.Request, action: str) -> web.Response:
    principal = _moderator(request)
    item_id = _item_id(request)
    form = await request.post()
    me = _me(principal)
    school_id = principal.school_id
    try:
        async with request.app[DB].transaction() as session:
            if action == "claim":
                await queue.claim(session, school_id=school_id, item_id=item_id,
                                  moderator_id=me)
            elif action == "release":
                await queue.release(session, school_id=school_id, item_id=item_id,
                                    moderator_id=me)
            elif action == "approve":
                await queue.approve(session, school_id=school_id, item_id=item_id,
                                    moderator_id=me)
            elif action == "edit":
                title = form.get("title")
                await queue.approve(session, school_id=school_id, item_id=item_id,
                                    moderator_id=me,
                                    title=str(title) if title is not None else None,
                                    text=str(form.get("text", "")))
            elif action == "reject":
                reason = queue.rejection_reason(str(form.get("canned", "")),
                                                str(form.get("reason", "")))
                await queue.reject(session, school_id=school_id, item_id=item_id,
                                   moderator_id=me, reason=reason)
            elif action == "undo":
                await queue.undo(session, school_id=school_id, item_id=item_id, actor_id=me,
                                 any_moderator=can(principal, Action.UNDO_ANY_DECISION))
            else:
                await _sanction(session, principal, action, item_id, form)
    except NotFound:
        raise
    except UserError as exc:
        if isinstance(exc, Conflict) and form.get("back") == "queue":
            raise  # decided from the queue's list: say so plainly, not on the item's page
        return await _render_item(request, principal, item_id, error=exc.message,
                                  status=exc.status, form=form)
    raise _back(form, item_id)


async def _sanction(session: Any, principal: Principal, action: str, item_id: int,
                    form: MultiDictProxy[Any]) -> None:
    require(principal, Action.SANCTION_AUTHOR)
    item = await queue.get_item(session, principal.school_id, item_id)
    if item.author_id is None:
        raise sanctions.SanctionError("У этого сообщения нет автора.")
    reason = str(form.get("reason", ""))
    if action == "warn":
        await sanctions.warn(session, school_id=principal.school_id, person_id=item.author_id,
                             by_id=_me(principal), reason=reason, item_id=item.id)
    elif action == "mute":
        hours = str(form.get("hours", ""))
        if hours not in MUTE_CHOICES:
            raise sanctions.SanctionError("Выберите срок запрета.")
        await sanctions.mute(session, school_id=principal.school_id,
                             person_id=item.author_id, by_id=_me(principal), reason=reason,
                             duration=dt.timedelta(hours=int(hours)), item_id=item.id)
    elif action == "unmute":
        await sanctions.unmute(session, school_id=principal.school_id,
                               person_id=item.author_id, by_id=_me(principal))
    else:
        raise web.HTTPNotFound()


def _action_route(action: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, action)

    handler.__name__ = f"item_{action}"
    routes.post(rf"/moderation/items/{{item_id:\d+}}/{action}")(handler)


for _action in ("claim", "release", "approve", "edit", "reject", "undo", "warn", "mute",
                "unmute"):
    _action_route(_action)


@routes.post("/moderation/bulk")
async def bulk(request: web.Request) -> web.Response:
    principal = _moderator(request)
    form = await request.post()
    ids = [_opt_int(str(v)) for v in form.getall("item", [])]
    decision = str(form.get("decision", ""))
    reason = ""
    if decision == "reject":
        reason = queue.rejection_reason(str(form.get("canned", "")),
                                        str(form.get("reason", "")))
    async with request.app[DB].transaction() as session:
        results = await queue.decide_many(
            session, school_id=principal.school_id,
            item_ids=[i for i in ids if i is not None], moderator_id=_me(principal),
            decision=decision, reason=reason,
        )
    return render(request, "moderation/bulk_done.html", {
        "results": results, "decision": decision,
        "done": sum(r.ok for r in results),
    })


# -- watched words ------------------------------------------------------------------------------


def _word_admin(request: web.Request) -> Principal:
    principal, _ = signed_in(request)
    require(principal, Action.MANAGE_WATCHED_WORDS)
    return principal


async def _render_words(request: web.Request, principal: Principal, *, error: str = "",
                        status: int = 200, pattern: str = "", action: str = "hold",
                        sample: str = "") -> web.Response:
    async with request.app[DB].session() as session:
        words = await watched.list_words(session, principal.school_id)
        trial = None
        if sample:
            detector = await watched.detector_for(session, principal.school_id)
            verdict = detector.check(sample)
            reasons = (queue.verdict_json(verdict) or {}).get("reasons", [])
            trial = {
                "action": verdict.action.value,
                "html": highlight(sample, reasons),
                "masked": detector.mask(sample),
                "reasons": [rule_title(r["rule"]) for r in reasons],
            }
    return render(request, "moderation/words.html", {
        "words": words, "error": error, "pattern": pattern, "action": action,
        "sample": sample, "trial": trial, "action_titles": watched.ACTION_TITLES,
    }, status=status)


@routes.get("/moderation/words")
async def words_page(request: web.Request) -> web.Response:
    principal = _word_admin(request)
    sample = request.query.get("sample", "")[:2000]
    return await _render_words(request, principal, sample=sample)


@routes.post("/moderation/words")
async def add_word(request: web.Request) -> web.Response:
    principal = _word_admin(request)
    form = await request.post()
    pattern, action = str(form.get("pattern", "")), str(form.get("action", ""))
    try:
        async with request.app[DB].transaction() as session:
            row = await watched.add_word(session, school_id=principal.school_id,
                                         pattern=pattern, action=action,
                                         created_by=principal.person_id)
            await audit.record(session, school_id=principal.school_id,
                               actor_id=principal.person_id, action="watched_add",
                               note=f"{row.pattern} ({row.action})")
    except UserError as exc:
        return await _render_words(request, principal, error=exc.message, status=exc.status,
                                   pattern=pattern, action=action)
    raise web.HTTPSeeOther("/moderation/words")


@routes.post(r"/moderation/words/{word_id:\d+}/delete")
async def remove_word(request: web.Request) -> web.Response:
    principal = _word_admin(request)
    word_id = int(request.match_info["word_id"])
    async with request.app[DB].transaction() as session:
        removed = await watched.remove_word(session, school_id=principal.school_id,
                                            word_id=word_id)
        if removed is None:
            raise NotFound("Такого слова нет в списке.")
        await audit.record(session, school_id=principal.school_id,
                           actor_id=principal.person_id, action="watched_remove",
                           note=f"{removed.pattern} ({removed.action})")
    raise web.HTTPSeeOther("/moderation/words")


# -- the audit log ------------------------------------------------------------------------------


@routes.get("/moderation/audit")
async def audit_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.READ_AUDIT_LOG)
    query = request.query
    action = query.get("action") or None
    if action and action not in audit.ACTION_TITLES:
        raise UserError("Неверный фильтр.")
    async with request.app[DB].session() as session:
        rows = await audit.entries(
            session, principal.school_id, actor_id=_opt_int(query.get("actor")),
            subject_id=_opt_int(query.get("subject")), action=action,
            item_id=_opt_int(query.get("item")),
        )
        names = await queue.names_of(
            session, {r.actor_id for r in rows} | {r.subject_id for r in rows}
        )
    return render(request, "moderation/audit.html", {
        "rows": rows, "names": names, "action_titles": audit.ACTION_TITLES,
        "action": action or "", "kind_titles": KIND_TITLES,
    })
