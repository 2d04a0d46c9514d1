"""What every page a browser test visits must pass: axe-core (from the axe-playwright-python
package's axe.min.js, evaluated in the page, so the strict CSP does not stand in its way)
finds nothing critical or serious, and on a phone nothing is wider than the screen."""

from __future__ import annotations

import os
import re
from functools import cache
from importlib import resources
from typing import Any

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@cache
def axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")


async def axe_problems(page: Any) -> list[str]:
    """The critical and serious axe violations on the page, one line each."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source())
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["html"][:120] for node in v["nodes"][:3])
        for v in result["violations"] if v["impact"] in ("critical", "serious")
    ]


async def page_width(page: Any) -> tuple[int, int]:
    """(document width, window width) in CSS pixels."""
    width, inner = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    return int(width), int(inner)


async def check_page(page: Any, seen: dict[str, Any]) -> None:
    """Record the page's problems under its path; assert_clean reports them together."""
    await page.wait_for_load_state()
    path = page.url.split("://", 1)[-1].split("/", 1)[-1]
    problems = await axe_problems(page)
    width, inner = await page_width(page)
    if width > inner:
        problems.append(f"horizontal scroll: {width} px wide in a {inner} px window")
    if await page.locator("h1").count() == 0:
        problems.append("no h1")
    print(f"/{path}: {width} px in {inner} px")  # shown with pytest -s
    if os.environ.get("HUB_SCREENSHOTS"):  # a folder to look at the pages in
        name = re.sub(r"[^\w]+", "_", path)[:80] or "root"
        await page.screenshot(path=f"{os.environ['HUB_SCREENSHOTS']}/{inner}-{name}.png",
                              full_page=True)
    seen["/" + path] = problems


def assert_clean(seen: dict[str, Any]) -> None:
    bad = {path: problems for path, problems in seen.items() if problems}
    assert not bad, "\n".join(f"{path}: {p}" for path, ps in bad.items() for p in ps)
