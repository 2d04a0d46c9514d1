"""Signing in and out, throttling, invitations, password changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub import clock
from hub.auth import accounts, secrets
from hub.auth.models import Account, Invitation
from hub.db import Database
from hub.school import Person, Role
from tests.support.school import PASSWORD, SchoolBuilder
from tests.support.web import ensure_csrf, post_form, sign_in


async def test_sign_in_shows_profile_and_sign_out_ends_it(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova", last_name="Петрова", first_name="Анна")
    await sign_in(client, "petrova")
    page = await (await client.get("/profile")).text()
    assert "Петрова Анна" in page and "родитель" in page

    await post_form(client, "/signout")
    response = await client.get("/profile", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/signin")


async def test_unknown_login_and_wrong_password_get_the_same_answer(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    wrong_password = await post_form(client, "/signin", {"login": "petrova", "password": "nope"})
    unknown_login = await post_form(client, "/signin", {"login": "nobody", "password": "nope"})
    assert wrong_password.status == unknown_login.status == 401
    assert "Неверный логин или пароль." in await wrong_password.text()
    assert "Неверный логин или пароль." in await unknown_login.text()


async def test_five_failures_lock_the_login_for_fifteen_minutes(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    for _ in range(5):
        response = await post_form(client, "/signin", {"login": "petrova", "password": "x"})
        assert response.status == 401
    locked = await post_form(client, "/signin", {"login": "petrova", "password": PASSWORD})
    assert locked.status == 429
    assert 14 * 60 <= int(locked.headers["Retry-After"]) <= 15 * 60 + 1
    assert "Попробуйте снова через 15 мин" in await locked.text()
    # Another login is not affected.
    await school.person(Role.PARENT, login="sidorov")
    await sign_in(client, "sidorov")


async def test_parallel_tries_reach_at_most_five_password_checks(
    client: TestClient, school: SchoolBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    await school.person(Role.PARENT, login="petrova")
    await ensure_csrf(client)
    checks = count_hash_checks(monkeypatch)
    answers = await asyncio.gather(*(
        post_form(client, "/signin", {"login": "petrova", "password": f"guess {n}"})
        for n in range(30)
    ))
    statuses = sorted(response.status for response in answers)
    assert len(checks) <= 5
    assert statuses == [401] * len(checks) + [429] * (30 - len(checks))


async def test_spraying_many_logins_from_one_address_is_throttled(
    client: TestClient, school: SchoolBuilder
) -> None:
    statuses = [
        (await post_form(client, "/signin", {"login": f"parent{n:02d}", "password": "123456"}))
        .status
        for n in range(25)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429] * 5


async def test_a_stranger_guessing_does_not_lock_the_person_out(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    for _ in range(12):  # the stranger keeps guessing from 127.0.0.1
        await post_form(client, "/signin", {"login": "petrova", "password": "guess"})
    refused = await post_form(client, "/signin", {"login": "petrova", "password": PASSWORD})
    assert refused.status == 429
    # The person, from their own address, signs in at once.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(base_url=client.make_url("/"), connector=connector,
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as own_device:
        page = await (await own_device.get("/signin")).text()
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        response = await own_device.post("/signin", allow_redirects=False, data={
            "csrf_token": token, "login": "petrova", "password": PASSWORD})
        assert response.status == 303


async def test_form_without_csrf_token_is_refused(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    await ensure_csrf(client)
    response = await client.post(
        "/signin", data={"login": "petrova", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    assert "Обновите страницу" in await response.text()


async def test_invitation_sets_password_once(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    person = await school.person(Role.TEACHER)
    async with db.transaction() as session:
        issued = await accounts.issue_account(
            session, await session.get_one(Person, person.id), "teacher.one"
        )
    link = f"/invite/{issued.invitation_token}"
    assert (await client.get(link)).status == 200
    response = await post_form(client, link, {"password": "new secret 1", "repeat": "new secret 1"})
    assert response.status == 303  # signed in straight away
    assert (await client.get("/profile")).status == 200

    client.session.cookie_jar.clear()
    reused = await post_form(client, link, {"password": "other secret", "repeat": "other secret"})
    assert reused.status == 410
    assert "Приглашение недействительно" in await reused.text()
    await sign_in(client, "teacher.one", "new secret 1")


async def test_expired_or_forged_invitation_changes_nothing(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    person = await school.person(Role.TEACHER)
    async with db.transaction() as session:
        issued = await accounts.issue_account(
            session, await session.get_one(Person, person.id), "teacher.two"
        )
        invitation = await session.scalar(select(Invitation))
        invitation.expires_at = clock.now() - dt.timedelta(minutes=1)
    for token in (issued.invitation_token, "forged-token"):
        response = await post_form(client, f"/invite/{token}",
                                   {"password": "new secret 1", "repeat": "new secret 1"})
        assert response.status == 410
    async with db.session() as session:
        account = await session.scalar(select(Account).where(Account.login == "teacher.two"))
        assert account.password_hash is None


async def test_initial_password_must_be_changed_first(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    person = await school.person(Role.PARENT)
    async with db.transaction() as session:
        issued = await accounts.issue_account(
            session, await session.get_one(Person, person.id), "new.parent", with_password=True
        )
    await sign_in(client, "new.parent", issued.initial_password)
    response = await client.get("/profile", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/account/password"

    short = await post_form(client, "/account/password", {
        "current": issued.initial_password, "new": "short", "repeat": "short"})
    assert short.status == 422 and "не короче 8" in await short.text()
    done = await post_form(client, "/account/password", {
        "current": issued.initial_password, "new": "my own pass", "repeat": "my own pass"})
    assert done.status == 200 and "Пароль изменён" in await done.text()
    assert (await client.get("/profile", allow_redirects=False)).status == 200


async def test_every_refused_sign_in_costs_one_password_hash_check(
    client: TestClient, school: SchoolBuilder, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deactivated, invited-but-not-accepted, unknown and wrong-password sign-ins all verify
    one argon2 hash, so none answers faster than the others."""
    await school.person(Role.PARENT, login="active.one")
    await school.person(Role.PARENT, login="gone.one")
    invited = await school.person(Role.PARENT)
    async with db.transaction() as session:
        await accounts.issue_account(session, await session.get_one(Person, invited.id),
                                     "invited.one")
        gone = await session.scalar(select(Account).where(Account.login == "gone.one"))
        gone.is_active = False
    checks = count_hash_checks(monkeypatch)
    for login, password in (("active.one", "wrong pass"), ("gone.one", PASSWORD),
                            ("invited.one", PASSWORD), ("nobody.here", PASSWORD)):
        before = len(checks)
        response = await post_form(client, "/signin", {"login": login, "password": password})
        assert response.status == 401, login
        assert len(checks) - before == 1, login


def count_hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification from now on, recorded by the hash it checked."""
    checks: list[str] = []
    hasher = secrets._hasher

    class Counting:
        def verify(self, hash_: str, password: str) -> bool:
            checks.append(hash_)
            return hasher.verify(hash_, password)

        def __getattr__(self, name: str) -> object:
            return getattr(hasher, name)

    monkeypatch.setattr(secrets, "_hasher", Counting())
    return checks


async def test_redis_counts_parallel_tries_atomically() -> None:
    """With Redis configured the counter lives there, shared by every web instance."""
    from redis.asyncio import Redis

    from hub.auth.throttle import RedisCounter, SignInGuard, SignInThrottled
    from tests.support.services import need_redis

    redis = Redis.from_url(need_redis())
    login = f"redis.{uuid.uuid4().hex[:8]}"
    guard = SignInGuard(RedisCounter(redis))

    async def attempt() -> bool:
        try:
            await guard.admit(login, "192.0.2.7")
        except SignInThrottled:
            return False
        return True

    try:
        admitted = await asyncio.gather(*(attempt() for _ in range(30)))
        assert sum(admitted) == 5
        assert await attempt() is False
        await guard.succeeded(login, "192.0.2.7")
        assert await attempt() is True
    finally:
        await redis.aclose()
