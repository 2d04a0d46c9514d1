"""Security headers on every response the hub sends.

Set in the `on_response_prepare` signal rather than in a middleware, because a middleware
sees only what its handler returns: error pages made by the error middleware, redirects and
other raised HTTP exceptions, the router's own 404 and 405 and static files would pass
around it without headers.
"""

from __future__ import annotations

from aiohttp import web

from hub.http.keys import PRINCIPAL, SETTINGS

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# The hub uses none of these browser features; a page that is injected into cannot either.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), midi=(), display-capture=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"
# Says what answers, not which versions of Python and aiohttp to look up exploits for.
SERVER = "school-hub"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers["Server"] = SERVER
    if request.app[SETTINGS].public_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    # What a signed-in person sees is theirs: no shared cache and no back-button copy after
    # signing out. Static files are the same for everyone.
    if request.get(PRINCIPAL) is not None and not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "private, no-store")


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
