"""Security headers on every kind of response: pages, error pages, redirects, JSON errors."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from hub import events
from hub.compose import web_app
from hub.config import Settings
from hub.db import Database
from hub.school import Role
from tests.support.school import SchoolBuilder
from tests.support.web import sign_in

SECURITY_HEADERS = (
    "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
    "Permissions-Policy",
)


def assert_secured(response: object, what: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name in SECURITY_HEADERS:
        assert name in headers, f"{what}: no {name}"
    server = headers.get("Server", "")
    assert "aiohttp" not in server and "Python" not in server, f"{what}: Server {server}"


async def test_every_kind_of_response_carries_the_headers(
    client: TestClient, school: SchoolBuilder
) -> None:
    answers = {
        "sign-in page": await client.get("/signin"),
        "redirect": await client.get("/profile", allow_redirects=False),
        "error page": await client.get("/no/such/page"),
        "JSON error": await client.get("/api/v1/people"),
        "405": await client.put("/signin"),
        "static file": await client.get("/static/style.css"),
    }
    assert answers["redirect"].status == 303
    assert answers["error page"].status == 404
    assert answers["JSON error"].status == 401
    for what, response in answers.items():
        assert_secured(response, what)
    assert "Strict-Transport-Security" not in answers["sign-in page"].headers


async def test_signed_in_pages_are_not_cached(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    assert "no-store" not in (await client.get("/signin")).headers.get("Cache-Control", "")
    await sign_in(client, "petrova")
    for path in ("/profile", "/no/such/page"):
        response = await client.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert_secured(response, path)


async def test_https_deployment_sends_hsts(tmp_path: Path, db: Database) -> None:
    settings = Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                        public_url="https://hub.school.example")
    async with TestClient(TestServer(web_app(settings, db=db))) as https_client:
        for path in ("/signin", "/nowhere"):
            response = await https_client.get(path)
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    await events.settle()
