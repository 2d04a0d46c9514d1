"""One refusal, rendered once: a UserError raised anywhere in a view becomes its status and
message, as a page or (under /api/) as {"error", "details"}; anything else is a bare 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub import events
from hub.compose import web_app
from hub.config import Settings
from hub.db import Database
from hub.errors import Conflict, NotFound, UserError
from hub.school import normalise_class_name

SECRET = "connection string with a password"


async def _conflict(request: web.Request) -> web.Response:
    raise Conflict("Этот пункт взял в работу Иванов.")


async def _not_found(request: web.Request) -> web.Response:
    raise NotFound("Нет такого человека в школе.",
                   details=[{"field": "id", "message": "нет такого"}])


async def _domain(request: web.Request) -> web.Response:
    normalise_class_name("12Я")  # hub.school.SchoolError, a UserError of the kernel
    return web.Response()


async def _teapot(request: web.Request) -> web.Response:
    raise UserError("Так нельзя.", status=418)


async def _bug(request: web.Request) -> web.Response:
    raise RuntimeError(SECRET)


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[TestClient]:
    app = web_app(settings, db=db)
    for prefix in ("/refusals", "/api/v1/refusals"):
        app.router.add_get(f"{prefix}/conflict", _conflict)
        app.router.add_get(f"{prefix}/missing", _not_found)
        app.router.add_get(f"{prefix}/class", _domain)
        app.router.add_get(f"{prefix}/teapot", _teapot)
        app.router.add_get(f"{prefix}/bug", _bug)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await events.settle()


@pytest.mark.parametrize(("path", "status", "title", "message"), [
    ("conflict", 409, "Конфликт", "Этот пункт взял в работу Иванов."),
    ("missing", 404, "Не найдено", "Нет такого человека в школе."),
    ("class", 422, "Проверьте данные", "ожидается номер 1–11 и буква"),
    ("teapot", 418, "Ошибка в запросе", "Так нельзя."),
], ids=["conflict", "missing", "class", "teapot"])
async def test_a_refusal_is_a_page_with_its_status_and_message(
    client: TestClient, path: str, status: int, title: str, message: str
) -> None:
    response = await client.get(f"/refusals/{path}")
    assert response.status == status
    assert response.content_type == "text/html"
    page = await response.text()
    assert f"<h1>{title}</h1>" in page
    assert message in page


@pytest.mark.parametrize(("path", "status", "message", "details"), [
    ("conflict", 409, "Этот пункт взял в работу Иванов.", []),
    ("missing", 404, "Нет такого человека в школе.",
     [{"field": "id", "message": "нет такого"}]),
    ("class", 422, "класс «12Я»: ожидается номер 1–11 и буква, например 5А",
     [{"field": "", "message": "класс «12Я»: ожидается номер 1–11 и буква, например 5А"}]),
    ("teapot", 418, "Так нельзя.", []),
], ids=["conflict", "missing", "class", "teapot"])
async def test_a_refusal_in_the_api_is_json_with_details(
    client: TestClient, path: str, status: int, message: str, details: list[object]
) -> None:
    response = await client.get(f"/api/v1/refusals/{path}")
    assert response.status == status
    assert await response.json() == {"error": message, "details": details}


async def test_an_unexpected_exception_is_a_500_that_tells_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/refusals/bug")
    assert response.status == 500
    page = await response.text()
    assert "Что-то пошло не так" in page and SECRET not in page

    response = await client.get("/api/v1/refusals/bug")
    assert response.status == 500
    assert await response.json() == {"error": "Внутренняя ошибка сервера."}
    assert "unhandled error" in caplog.text  # logged for the administrator, not shown
