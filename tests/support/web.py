"""Driving the hub over HTTP in tests like a browser does: the page's CSRF token, forms,
sign-in, bodies that arrive slowly."""

from __future__ import annotations

import re
import weakref
from typing import Any

from aiohttp.test_utils import TestClient

from tests.support.school import PASSWORD

_TOKENS: weakref.WeakKeyDictionary[TestClient, tuple[tuple[str, str], str]] = (
    weakref.WeakKeyDictionary()
)
_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def _cookies(client: TestClient) -> tuple[str, str]:
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    return tuple(jar[name].value if name in jar else "" for name in ("hub_session", "hub_csrf"))  # type: ignore[return-value]


def csrf_token(client: TestClient) -> str:
    """The CSRF token a page last showed this client, while its cookies are the same."""
    cookies, token = _TOKENS.get(client, (("", ""), ""))
    return token if cookies == _cookies(client) else ""


async def ensure_csrf(client: TestClient) -> str:
    """The token as a page carries it (the token is bound to the session, so it is read
    from a page, not from a cookie)."""
    if not csrf_token(client):
        page = await (await client.get("/signin")).text()
        found = _META.search(page)
        assert found is not None, "no csrf-token on the page"
        _TOKENS[client] = (_cookies(client), found.group(1))
    return csrf_token(client)


async def post_form(client: TestClient, path: str, data: dict[str, Any] | None = None,
                    **kwargs: Any) -> Any:
    """POST a form as the page would: with the CSRF field, not following redirects."""
    form = {"csrf_token": await ensure_csrf(client), **(data or {})}
    kwargs.setdefault("allow_redirects", False)
    return await client.post(path, data=form, **kwargs)


async def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> None:
    client.session.cookie_jar.clear()
    response = await post_form(client, "/signin", {"login": login, "password": password})
    assert response.status == 303, await response.text()
    await ensure_csrf(client)


async def api(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    """A JSON API call from the signed-in browser session (CSRF header included)."""
    headers = {"X-CSRF-Token": await ensure_csrf(client), **kwargs.pop("headers", {})}
    return await client.request(method, path, headers=headers, **kwargs)


def browser_multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it: file names as raw UTF-8 (aiohttp's
    client would percent-encode them). Returns the body and its Content-Type."""
    boundary = "----hubtestboundary7MA4YWxkTrZu0gW"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode() + b"\r\n")
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def send_in_two_parts(
    client: TestClient, method: str, path: str, body: bytes, headers: dict[str, str],
    *, pause: float = 1.0,
) -> tuple[int, bytes]:
    """Send a request whose body arrives in two parts `pause` seconds apart, as over a slow
    network; returns the status and the response body."""
    import asyncio

    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    cookies = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if cookies:
        lines.append(f"Cookie: {cookies}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body[: len(body) // 2])
    await writer.drain()
    await asyncio.sleep(pause)
    writer.write(body[len(body) // 2:])
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content
