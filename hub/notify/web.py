"""Pages of the pipeline: the in-app list, notification settings, the delivery log; and the
worker embedded in `hub serve`."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from aiohttp import web

from hub.auth.access import Action, Principal, can, require
from hub.http.keys import DB, NAV, PRINCIPAL, SETTINGS, NavItem
from hub.http.render import redirect, render
from hub.http.session import signed_in
from hub.notify import deliverylog, inbox
from hub.notify.addresses import addresses_of
from hub.notify.channel import KIND_TITLES, ChannelName, NotificationKind
from hub.notify.models import STATUS_TITLES, DeliveryStatus
from hub.notify.preferences import (
    DEFAULT_QUIET,
    SENT_CHANNELS,
    Mode,
    explicit_modes,
    preferences_for,
    set_mode,
    set_schedule,
)
from hub.notify.retry import retry_delivery
from hub.school import Role

log = logging.getLogger(__name__)

CHANNEL_TITLES = {ChannelName.EMAIL: "E-mail", ChannelName.TELEGRAM: "Telegram",
                  ChannelName.IN_APP: "В портале"}
MODE_TITLES = {Mode.OFF: "выкл.", Mode.INSTANT: "сразу", Mode.DIGEST: "в дайджесте"}
# Kinds about a student: a student is told of them only after choosing a channel.
ABOUT_STUDENTS = (NotificationKind.GRADES, NotificationKind.ATTENDANCE)


def setup(app: web.Application) -> None:
    app.router.add_get("/notifications", notifications_page)
    app.router.add_post("/notifications/read", notifications_read)
    app.router.add_get("/notifications/settings", settings_page)
    app.router.add_post("/notifications/settings", settings_save)
    app.router.add_get("/admin/deliveries", deliveries_page)
    app.router.add_post("/admin/deliveries/{id:\\d+}/retry", delivery_retry)
    app[NAV].append(NavItem("Уведомления", "/notifications", order=80,
                            visible=lambda p: p.person_id is not None, badge=_unread_badge,
                            badge_tables=("notifications",)))
    app[NAV].append(NavItem("Доставка", "/admin/deliveries", order=90,
                            visible=lambda p: can(p, Action.VIEW_DELIVERY_LOG)))


async def _unread_badge(request: web.Request) -> int | None:
    principal = request[PRINCIPAL]
    if principal is None or principal.person_id is None:
        return None
    async with request.app[DB].session() as session:
        return await inbox.unread_count(session, principal.school_id, principal.person_id) or None


# -- the in-app list


async def notifications_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_NOTIFICATIONS)
    page = _page(request)
    async with request.app[DB].session() as session:
        rows, more = await inbox.notifications_of(
            session, principal.school_id, _person(principal), page=page
        )
    return render(request, "notify/list.html", {
        "rows": rows, "page": page, "more": more, "kind_titles": KIND_TITLES,
    })


async def notifications_read(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_NOTIFICATIONS)
    form = await request.post()
    raw = str(form.get("id", "all"))
    if raw != "all" and not raw.isdigit():
        raise web.HTTPBadRequest(text="Неверный номер уведомления.")
    async with request.app[DB].transaction() as session:
        await inbox.mark_read(session, principal.school_id, _person(principal),
                              None if raw == "all" else int(raw))
    return redirect("/notifications")


# -- settings


async def settings_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_NOTIFICATIONS)
    return render(request, "notify/settings.html",
                  await _settings_context(request, principal, error=None, saved=False))


async def _settings_context(
    request: web.Request, principal: Principal, *, error: str | None, saved: bool
) -> dict[str, Any]:
    person_id = _person(principal)
    async with request.app[DB].session() as session:
        prefs = await preferences_for(session, person_id)
        addresses = (await addresses_of(session, [person_id]))[person_id]
        explicit = (await explicit_modes(session, [person_id]))[person_id]
    channels = [c for c in SENT_CHANNELS if c is not ChannelName.TELEGRAM or c in addresses]
    modes = {}
    for kind in NotificationKind:
        for channel in channels:
            if Role.STUDENT in principal.roles and kind in ABOUT_STUDENTS:
                modes[(kind, channel)] = explicit.get((kind, channel), Mode.OFF)
            else:
                modes[(kind, channel)] = prefs.mode(kind, channel)
    return {
        "kinds": list(NotificationKind), "kind_titles": KIND_TITLES,
        "channels": channels, "channel_titles": CHANNEL_TITLES,
        "modes": modes, "mode_titles": MODE_TITLES, "all_modes": list(Mode),
        "addresses": addresses,
        "quiet": prefs.quiet, "digest_at": prefs.digest_at,
        "default_quiet": DEFAULT_QUIET, "error": error, "saved": saved,
    }


async def settings_save(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_NOTIFICATIONS)
    form = await request.post()
    person_id = _person(principal)
    try:
        wanted: dict[tuple[NotificationKind, ChannelName], Mode] = {}
        for kind in NotificationKind:
            for channel in SENT_CHANNELS:
                raw = form.get(f"mode:{kind.value}:{channel.value}")
                if not isinstance(raw, str):
                    continue
                try:
                    wanted[(kind, channel)] = Mode(raw)
                except ValueError:
                    raise ValueError(f"неизвестный режим «{raw}»") from None
        quiet = None
        if form.get("quiet") == "on":
            quiet = (_time(form.get("quiet_start"), "начало тихих часов"),
                     _time(form.get("quiet_end"), "конец тихих часов"))
            if quiet[0] == quiet[1]:
                raise ValueError("начало и конец тихих часов совпадают")
        digest_at = _time(form.get("digest_at"), "время дайджеста")
    except ValueError as exc:
        context = await _settings_context(request, principal, error=str(exc), saved=False)
        return render(request, "notify/settings.html", context, status=422)
    async with request.app[DB].transaction() as session:
        for (kind, channel), mode in wanted.items():
            await set_mode(session, person_id, kind, channel, mode)
        await set_schedule(session, person_id, quiet=quiet, digest_at=digest_at)
    return render(request, "notify/settings.html",
                  await _settings_context(request, principal, error=None, saved=True))


def _time(value: object, what: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValueError(f"{what}: ожидается время ЧЧ:ММ") from None


# -- the delivery log


async def deliveries_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.VIEW_DELIVERY_LOG)
    query = request.query
    try:
        filters = deliverylog.LogFilter(
            status=DeliveryStatus(query["status"]) if query.get("status") else None,
            channel=ChannelName(query["channel"]) if query.get("channel") else None,
            kind=NotificationKind(query["kind"]) if query.get("kind") else None,
            person=query.get("person", "").strip() or None,
            since=_day_start(request, query.get("since")),
            until=_day_start(request, query.get("until"), next_day=True),
        )
    except ValueError:
        raise web.HTTPBadRequest(text="Неверный фильтр журнала доставки.") from None
    page = _page(request)
    async with request.app[DB].session() as session:
        rows, total = await deliverylog.delivery_log(session, principal.school_id, filters,
                                                     page=page)
    return render(request, "notify/deliveries.html", {
        "rows": rows, "total": total, "page": page,
        "more": page * deliverylog.PAGE_SIZE < total, "query": dict(query),
        "statuses": list(DeliveryStatus), "status_titles": STATUS_TITLES,
        "channels": list(SENT_CHANNELS), "channel_titles": CHANNEL_TITLES,
        "kinds": list(NotificationKind), "kind_titles": KIND_TITLES,
        "may_retry": can(principal, Action.RETRY_DELIVERIES),
        "retryable": (DeliveryStatus.DEAD, DeliveryStatus.FAILED),
    })


async def delivery_retry(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    require(principal, Action.RETRY_DELIVERIES)
    delivery_id = int(request.match_info["id"])
    async with request.app[DB].transaction() as session:
        done = await retry_delivery(session, principal.school_id, delivery_id)
    if not done:
        raise web.HTTPConflict(text="Эту доставку нельзя повторить: её нет или она не "
                                    "завершилась ошибкой.")
    back = str((await request.post()).get("back", "")) or "/admin/deliveries"
    return redirect(back if back.startswith("/admin/deliveries") else "/admin/deliveries")


def _day_start(request: web.Request, raw: str | None, *, next_day: bool = False
               ) -> dt.datetime | None:
    if not raw:
        return None
    day = dt.date.fromisoformat(raw)
    if next_day:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=request.app[SETTINGS].tz).astimezone(dt.UTC)


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise web.HTTPBadRequest(text="Неверный номер страницы.")
    return int(raw)


def _person(principal: Principal) -> int:
    assert principal.person_id is not None  # signed_in() lets only people through
    return principal.person_id
