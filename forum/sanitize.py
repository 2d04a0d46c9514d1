"""Text the authors type, turned into HTML that is safe to show.

Markdown (raw HTML switched off in the parser, so any markup the author types is shown as
text) rendered, then cleaned by bleach against a small safelist: a tag, attribute or URL
scheme not on it cannot come out, whatever the renderer produced.

Most posts are a few paragraphs of plain words with some emphasis: the renderer's HTML is
then nothing but safelisted tags without attributes around escaped text, with no link to
make, and bleach (an HTML parser in pure Python, the larger share of a reply's work) would
hand it back unchanged but for `<br />` written `<br>`. Such HTML skips bleach; anything
else (a link, an attribute, an entity, a character the parser would replace) goes through it.
"""

from __future__ import annotations

import html
import re
from collections.abc import MutableMapping
from functools import partial

import bleach
from bleach.linkifier import URL_RE, LinkifyFilter
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


# Renderer output that bleach would give back as it is (see the module's docstring): the
# safelisted tags without attributes, text with only the renderer's own escapes, and none
# of the characters HTML parsing replaces (controls, surrogates, noncharacters).
_PLAIN_TAG = "|".join(sorted(ALLOWED_TAGS - {"a", "br"}))
_PLAIN_HTML = re.compile(
    rf"(?:</?(?:{_PLAIN_TAG})>|<br />|&amp;(?![#0-9A-Za-z])|&(?:lt|gt|quot);"
    "|[\t\n\x20-\x25\x27-\x3b\x3d-\x7e\xa0-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd]"
    "|[\U00010000-\U0010ffff](?<![\U0001fffe\U0001ffff\U0002fffe\U0002ffff"
    "\U0003fffe\U0003ffff\U0004fffe\U0004ffff\U0005fffe\U0005ffff\U0006fffe\U0006ffff"
    "\U0007fffe\U0007ffff\U0008fffe\U0008ffff\U0009fffe\U0009ffff\U000afffe\U000affff"
    "\U000bfffe\U000bffff\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff"
    "\U000ffffe\U000fffff\U0010fffe\U0010ffff]))*"
)


def _already_clean(rendered: str) -> bool:
    return _PLAIN_HTML.fullmatch(rendered) is not None and URL_RE.search(rendered) is None


def render(source: str) -> str:
    """The safe HTML for an author's Markdown."""
    rendered = _markdown.render(source)
    # Headings fit under the page's own: # and ## become h3.
    rendered = _HEADING.sub(r"<\1h3>", rendered)
    if _already_clean(rendered):
        return rendered.replace("<br />", "<br>").strip()
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
