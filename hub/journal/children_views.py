"""A parent's view of their children's recent grades and attendance (/children); a student
sees their own."""

from __future__ import annotations

from aiohttp import web

from hub.auth.access import Action, require
from hub.http.keys import DB
from hub.http.render import render
from hub.http.session import signed_in
from hub.journal.models import status_title
from hub.journal.reading import recent_attendance, recent_grades
from hub.names import person_gender
from hub.school import Person, children_of, class_of


async def children_page(request: web.Request) -> web.Response:
    """A parent's children's recent grades and marks (a student's own)."""
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
                "gender": person_gender(person),
                "grades": await recent_grades(session, person.id),
                "marks": await recent_attendance(session, person.id),
            })
    return render(request, "journal/children.html",
                  {"cards": cards, "status_title": status_title})
