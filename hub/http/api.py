"""The JSON API's plumbing: reading a body into a pydantic model, error answers, and the
OpenAPI document built from the routes that declare their models.

A route declares itself with `add_endpoint(...)`; `openapi_document(app)` collects them.
Errors follow one shape, {"error": "<for a person>", "details": [...]}: a view raises a
hub.errors.UserError and the error middleware writes the answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from hub.errors import Invalid, UserError
from hub.http.body import read_body
from hub.text import unstorable

MAX_JSON_BODY = 1024 * 1024  # 1 MiB: a batch of 1,000 grades is well under this
MAX_JSON_DEPTH = 32  # the deepest request model nests three levels
MAX_JSON_NUMBER = 2**63 - 1  # nothing the hub stores is larger than a 64-bit integer

Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiModel(BaseModel):
    """Base for request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


async def read_json(request: web.Request, model: type[Model]) -> Model:
    """The request body as `model`: 413 when too large, 400 when not JSON, 422 when the
    fields are wrong (with every problem listed)."""
    raw = await read_body(request, MAX_JSON_BODY)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"Тело запроса — не JSON: {exc}") from None
    except RecursionError:
        raise UserError(f"Тело запроса вложено глубже {MAX_JSON_DEPTH} уровней.") from None
    problems = json_problems(data)
    if problems:
        raise Invalid("Данные не прошли проверку.", details=problems)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("Данные не прошли проверку.", details=validation_details(exc)) from None


def json_problems(data: Any) -> list[dict[str, str]]:
    """What no model should have to meet: nesting deeper than MAX_JSON_DEPTH, text that no
    column can keep (NUL), numbers beyond a 64-bit integer (2**70, 1e23 as an id). Walked
    without recursion, so a hostile document cannot exhaust the stack."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack and len(problems) < 20:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return [{"field": where, "message": f"вложенность глубже {MAX_JSON_DEPTH}"}]
        if isinstance(value, dict):
            for key, item in value.items():
                field = f"{where}.{key}" if where else str(key)
                if unstorable(key):
                    problems.append({"field": field, "message": "недопустимые символы в имени"})
                stack.append((item, field, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{i}" if where else str(i), depth + 1)
                         for i, item in enumerate(value))
        elif isinstance(value, str) and unstorable(value):
            problems.append({"field": where, "message": "текст содержит недопустимые символы "
                             "(например, нулевой символ)"})
        elif (isinstance(value, (int, float)) and not isinstance(value, bool)
              and not -MAX_JSON_NUMBER <= value <= MAX_JSON_NUMBER):
            problems.append({"field": where, "message": "число вне допустимых пределов"})
    return problems


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


@dataclass
class EndpointDoc:
    method: str
    path: str
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tags: list[str] = field(default_factory=list)


API_ENDPOINTS = web.AppKey("api_endpoints", list[EndpointDoc])


def add_endpoint(
    app: web.Application,
    method: str,
    path: str,
    handler: Handler,
    *,
    summary: str,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tag: str = "admin",
) -> None:
    """Add an /api/v1 route and describe it in the OpenAPI document."""
    app.router.add_route(method, path, handler)
    app.setdefault(API_ENDPOINTS, [])
    app[API_ENDPOINTS].append(
        EndpointDoc(method.lower(), path, summary, request, response, status, [tag])
    )


def openapi_document(app: web.Application) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for doc in app.get(API_ENDPOINTS, []):
        operation: dict[str, Any] = {
            "summary": doc.summary,
            "tags": doc.tags,
            "responses": {
                str(doc.status): {
                    "description": "OK",
                    **({"content": {"application/json": {"schema": ref(doc.response)}}}
                       if doc.response else {}),
                },
                "400": {"description": "Не JSON", "content": error},
                "401": {"description": "Нет входа или токена", "content": error},
                "403": {"description": "Недостаточно прав", "content": error},
                "413": {"description": "Слишком большое тело", "content": error},
                "422": {"description": "Данные не прошли проверку", "content": error},
            },
        }
        responses = operation["responses"]
        # What a path or a body names (a person, a class) may not exist in the school.
        if "{" in doc.path or doc.request is not None:
            responses["404"] = {"description": "Не найдено", "content": error}
        # A change may conflict with what is there (a taken external id, one's own data).
        if doc.method in ("post", "put", "patch", "delete"):
            responses["409"] = {"description": "Конфликт с текущим состоянием",
                                "content": error}
        if doc.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(doc.request)}},
            }
        parameters = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for part in doc.path.split("/")
            if part.startswith("{") and part.endswith("}")
        ]
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(doc.path, {})[doc.method] = operation
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["error"],
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "school-hub API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
            },
        },
        "security": [{"token": []}, {"session": []}],
    }


async def openapi_view(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi_view)
