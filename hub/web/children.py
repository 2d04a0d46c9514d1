"""Parents' view of their children's recent grades and attendance (a student sees their
own): /children."""

from __future__ import annotations

from aiohttp import web

from hub.auth.access import Action, can, require
from hub.http.keys import DB, NAV, NavItem
from hub.http.render import render
from hub.http.session import signed_in
from hub.journal import STATUS_TITLES, recent_attendance, recent_grades
from hub.school import Person, children_of, class_of


def setup(app: web.Application) -> None:
    app.router.add_get("/children", children_page)
    app[NAV].append(NavItem("Оценки", "/children", visible=_visible, order=30))


def _visible(principal: object) -> bool:
    return can(principal, Action.VIEW_OWN_GRADES)  # type: ignore[arg-type]


async def children_page(request: web.Request) -> web.Response:
    principal, account = signed_in(request)
    require(principal, Action.VIEW_OWN_GRADES)
    async with request.app[DB].session() as session:
        # Only the signed-in person's own children, and themselves when they are a student.
        people: list[Person] = list(await children_of(session, account.person_id))
        if principal.own_class_id is not None:
            people.insert(0, account.person)
        cards = []
        for person in people:
            school_class = await class_of(session, person.id)
            cards.append({
                "name": person.full_name,
                "class_name": school_class.name if school_class else None,
                "grades": await recent_grades(session, person.id),
                "marks": await recent_attendance(session, person.id),
            })
    return render(request, "journal/children.html",
                  {"cards": cards, "status_titles": STATUS_TITLES})
