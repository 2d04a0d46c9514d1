"""Signing in and out, the profile, password change, accepting an invitation."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.auth import accounts
from hub.auth.access import Action, require
from hub.auth.models import Account
from hub.auth.secrets import PasswordRejected
from hub.auth.throttle import SignInThrottled
from hub.errors import UserError
from hub.http.keys import ACCOUNT, DB, PRINCIPAL, SESSION_TOKEN, SESSIONS, SIGN_IN_GUARD
from hub.http.middlewares import CSRF_COOKIE, SESSION_COOKIE, set_cookie
from hub.http.render import redirect, render
from hub.http.session import signed_in
from hub.school import ROLE_TITLES, Role, SchoolClass, children_of, class_of

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    if request.get(ACCOUNT) is None:
        raise web.HTTPSeeOther("/signin")
    principal = request.get(PRINCIPAL)
    raise web.HTTPSeeOther(landing(principal.roles if principal else frozenset()))


# Where each role's work is, in order of precedence for a person with several roles.
LANDINGS: tuple[tuple[frozenset[Role], str], ...] = (
    (frozenset({Role.MODERATOR, Role.COORDINATOR}), "/moderation/queue"),
    (frozenset({Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST}), "/journal"),
    (frozenset({Role.PARENT, Role.STUDENT}), "/board"),
    (frozenset({Role.SYSADMIN, Role.HR}), "/admin/people"),
)


def landing(roles: frozenset[Role]) -> str:
    """The page a person lands on after signing in: where their work is."""
    for wanted, path in LANDINGS:
        if roles & wanted:
            return path
    return "/profile"


@routes.get("/signin", name="signin")
async def signin_form(request: web.Request) -> web.Response:
    next_path = _local_path(request.query.get("next", ""))
    return render(request, "signin.html", {"login": "", "error": None, "next": next_path})


def _local_path(path: str) -> str:
    """Where to go after signing in: only a path on this site, and one that can go in a
    Location header (no control characters, no spaces)."""
    if (
        path.startswith("/")
        and not path.startswith(("//", "/\\"))
        and all(c.isprintable() and not c.isspace() for c in path)
    ):
        return path
    return "/"


@routes.post("/signin")
async def signin(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login = str(form.get("login", ""))
    password = str(form.get("password", ""))
    next_path = _local_path(str(form.get("next", "")))
    try:
        async with request.app[DB].transaction() as session:
            account = await accounts.sign_in(session, request.app[SIGN_IN_GUARD], login,
                                             password, address=request.remote or "")
    except SignInThrottled as exc:
        wait = max(1, int((exc.retry_at - clock.now()).total_seconds() // 60) + 1)
        response = render(
            request,
            "signin.html",
            {"login": login, "next": next_path, "error": f"Слишком много неудачных попыток. "
             f"Попробуйте снова через {wait} мин."},
            status=429,
        )
        response.headers["Retry-After"] = str(int((exc.retry_at - clock.now()).total_seconds()) + 1)
        return response
    if account is None:
        return render(
            request, "signin.html",
            {"login": login, "error": "Неверный логин или пароль.", "next": next_path},
            status=401,
        )
    return await _start_session(request, account.id, next_path)


async def _start_session(request: web.Request, account_id: int, to: str) -> web.StreamResponse:
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await request.app[SESSIONS].end(old)
    token = await request.app[SESSIONS].create(account_id)
    response = redirect(to)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=14 * 24 * 3600)
    response.del_cookie(CSRF_COOKIE, path="/")  # a new CSRF token for the new session
    return response


@routes.post("/signout")
async def signout(request: web.Request) -> web.StreamResponse:
    token = request.get(SESSION_TOKEN)
    if token:
        await request.app[SESSIONS].end(token)
    response = redirect("/signin")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/profile")
async def profile(request: web.Request) -> web.Response:
    principal, account = signed_in(request)
    require(principal, Action.VIEW_PROFILE)
    children: list[tuple[str, SchoolClass | None]] = []
    if principal.child_ids:  # known from the identity: no query for those without children
        async with request.app[DB].session() as session:
            children = await _children_with_classes(session, account.person_id)
    return render(
        request,
        "profile.html",
        {
            "person": account.person,
            "roles": [ROLE_TITLES[r] for r in sorted(account.person.roles)],
            "children": children,
        },
    )


async def _children_with_classes(
    session: AsyncSession, parent_id: int
) -> list[tuple[str, SchoolClass | None]]:
    return [
        (child.full_name, await class_of(session, child.id))
        for child in await children_of(session, parent_id)
    ]


@routes.get("/account/password")
async def password_form(request: web.Request) -> web.Response:
    signed_in(request)
    return render(request, "password.html", {"error": None, "done": False})


@routes.post("/account/password")
async def password_change(request: web.Request) -> web.StreamResponse:
    principal, account = signed_in(request)
    require(principal, Action.CHANGE_PASSWORD)
    form = await request.post()
    current, new = str(form.get("current", "")), str(form.get("new", ""))
    if new != str(form.get("repeat", "")):
        return render(request, "password.html",
                      {"error": "Новый пароль и повтор не совпадают.", "done": False}, status=422)
    try:
        async with request.app[DB].transaction() as session:
            fresh = await session.get_one(type(account), account.id)
            await accounts.change_password(session, fresh, current, new)
    except UserError as exc:
        return render(request, "password.html", {"error": exc.message, "done": False},
                      status=exc.status)
    await request.app[SESSIONS].end_all(account.id, keep=request.get(SESSION_TOKEN))
    return render(request, "password.html", {"error": None, "done": True})


@routes.get("/invite/{token}")
async def invitation_form(request: web.Request) -> web.Response:
    async with request.app[DB].session() as session:
        invitation = await accounts.find_invitation(session, request.match_info["token"])
        login = (await session.get_one(Account, invitation.account_id)).login \
            if invitation is not None else ""
    if invitation is None:
        return _invalid_invitation(request)
    return render(request, "invitation.html", {"error": None, "login": login})


@routes.post("/invite/{token}")
async def invitation_accept(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    password = str(form.get("password", ""))
    if password != str(form.get("repeat", "")):
        return render(request, "invitation.html",
                      {"error": "Пароль и повтор не совпадают.", "login": ""}, status=422)
    try:
        async with request.app[DB].transaction() as session:
            account = await accounts.accept_invitation(
                session, request.match_info["token"], password
            )
    except PasswordRejected as exc:
        return render(request, "invitation.html", {"error": exc.message, "login": ""},
                      status=exc.status)
    except accounts.AccountError:
        return _invalid_invitation(request)
    return await _start_session(request, account.id, "/profile")


def _invalid_invitation(request: web.Request) -> web.Response:
    return render(
        request,
        "error.html",
        {
            "title": "Приглашение недействительно",
            "message": "Ссылка уже использована, истекла или неверна. "
            "Попросите администратора школы выслать новое приглашение.",
        },
        status=410,
    )
