"""The detector's findings marked up in a message: each segment escaped, the flagged ones
wrapped in <mark class="flag">. The text is never trusted as HTML here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any

from markupsafe import Markup, escape

RULE_TITLES = {
    "lexicon": "словарь",
    "masked": "замаскированное слово",
    "маскировка": "замаскированное слово",
    "spaced": "слово вразрядку",
    "watched": "стоп-слово школы",
    "model": "модель: грубый тон",
}
CATEGORY_TITLES = {
    "obscene": "нецензурная лексика",
    "insult": "оскорбление",
    "rude": "грубость",
    "threat": "угроза",
    "watched": "стоп-слово",
}


def rule_title(rule: str) -> str:
    rule = rule.removeprefix("title:")
    head, _, rest = rule.partition(":")
    title = RULE_TITLES.get(head, head)
    if head == "watched":  # watched:<action>:<pattern>
        return f"{title} «{rest.partition(':')[2]}»"
    return title


_BLOCK_ENDS = frozenset({"p", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "tr"})


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_ENDS:
            self.parts.append("\n")


def text_of(safe_html: str) -> str:
    """The words of a target's sanitized HTML, as a moderator reads them (paragraphs kept)."""
    parser = _TextOf()
    parser.feed(safe_html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()



def _locate(text: str, start: int, matched: str, taken: set[int]) -> int | None:
    """Where `matched` is in `text`: at `start` if it still is, else the occurrence nearest
    to it (the text shown may differ from the one screened, e.g. HTML around it)."""
    if not matched:
        return None
    if text[start:start + len(matched)] == matched and start not in taken:
        return start
    best = None
    pos = text.find(matched)
    while pos != -1:
        if pos not in taken and (best is None or abs(pos - start) < abs(best - start)):
            best = pos
        pos = text.find(matched, pos + 1)
    return best


_MARKUP_EDGES = "*_~`#>[]()!.,;:\"' "


def spans_for(reasons: Iterable[Mapping[str, Any]], text: str, *, title: bool) -> list[
    tuple[int, int, str]
]:
    """The reasons that point into `text` (the title's when `title`), found in it: a
    finding whose words are no longer there is left out."""
    out: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for reason in reasons:
        rule = str(reason.get("rule", ""))
        if rule.startswith("title:") != title or rule.removeprefix("title:") == "model":
            continue
        matched = str(reason.get("matched") or "")
        at = _locate(text, int(reason.get("start", -1)), matched, taken)
        if at is None:  # Markdown emphasis around the word is gone from the shown text
            matched = matched.strip(_MARKUP_EDGES)
            at = _locate(text, int(reason.get("start", -1)), matched, taken)
        if at is not None:
            taken.add(at)
            out.append((at, at + len(matched), rule_title(rule)))
    return sorted(out)


def highlight(text: str, reasons: Iterable[Mapping[str, Any]], *, title: bool = False) -> Markup:
    parts: list[str] = []
    pos = 0
    for start, end, why in spans_for(reasons, text, title=title):
        if start < pos:  # overlapping findings: extend the mark already open
            continue
        parts.append(str(escape(text[pos:start])))
        parts.append(
            f'<mark class="flag" title="{escape(why)}">{escape(text[start:end])}</mark>'
        )
        pos = end
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))
