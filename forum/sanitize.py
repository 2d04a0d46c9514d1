"""Text the authors type, turned into HTML that is safe to show.

Markdown (raw HTML switched off in the parser, so any markup the author types is shown as
text) rendered, then cleaned by bleach against a small safelist: a tag, attribute or URL
scheme not on it cannot come out, whatever the renderer produced.
"""

from __future__ import annotations

import html
import re
from collections.abc import MutableMapping
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Images would load from anywhere (tracking) and headings h1/h2 would outshout the page.
_markdown.disable(["image"])


def _safe_rel(
    attrs: MutableMapping[tuple[str | None, str], str], new: bool = False
) -> MutableMapping[tuple[str | None, str], str]:
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_safe_rel], skip_tags={"pre", "code"})],
)

_HEADING = re.compile(r"<(/?)h[12]>")
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")


def render(source: str) -> str:
    """The safe HTML for an author's Markdown."""
    rendered = _markdown.render(source)
    # Headings fit under the page's own: # and ## become h3.
    rendered = _HEADING.sub(r"<\1h3>", rendered)
    return _cleaner.clean(rendered).strip()


def plain_text(safe_html: str) -> str:
    """The words of sanitized HTML, for search, previews and notifications."""
    text = _TAGS.sub(" ", safe_html)
    return _SPACES.sub(" ", html.unescape(text)).strip()


def quote(source: str, author: str) -> str:
    """Markdown that quotes another post at the start of a reply."""
    lines = [f"> {line}" if line else ">" for line in source.strip().splitlines()]
    return f"> **{author}:**\n" + "\n".join(lines) + "\n\n"


def escape_title(title: str) -> str:
    """Titles are plain text: collapse whitespace; templates escape them."""
    return " ".join(title.split())


def from_moderator(text: str) -> tuple[str, str]:
    """A moderator's corrected text as (source, safe HTML). The queue may hand back either
    Markdown (the author's form) or the sanitized HTML it showed; both come out clean."""
    stripped = text.strip()
    if stripped.startswith("<") and _TAGS.search(stripped):
        safe = _cleaner.clean(stripped).strip()
        return plain_text(safe), safe
    return stripped, render(stripped)
