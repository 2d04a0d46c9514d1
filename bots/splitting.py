"""Splitting Telegram HTML longer than one message (4,096 characters) into several.

Breaks go where a reader expects them: between paragraphs, else between lines, else
between words; only a word longer than a whole message is cut. A piece never ends inside
a tag or a character reference, and tags open at a cut are closed there and opened again
in the next piece, so every piece parses on its own.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 4096

_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|\s+|[^<&\s]{1,100}|[<&]")
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)")


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters (of HTML, which is never shorter than the text
    Telegram counts), in order; empty pieces are dropped."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        for part in _fit(paragraph, "\n", limit):
            joined = f"{current}\n\n{part}" if current else part
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def _fit(block: str, separator: str, limit: int) -> list[str]:
    """`block` as parts of at most `limit`, joining its lines greedily."""
    if len(block) <= limit:
        return [block]
    parts: list[str] = []
    current = ""
    for line in block.split(separator):
        chunks = [line] if len(line) <= limit else _cut_line(line, limit)
        for chunk in chunks:
            joined = f"{current}{separator}{chunk}" if current else chunk
            if len(joined) <= limit:
                current = joined
            else:
                if current:
                    parts.append(current)
                current = chunk
    if current:
        parts.append(current)
    return parts


def _cut_line(line: str, limit: int) -> list[str]:
    """A line longer than `limit`, cut between words, tags kept balanced in each chunk."""
    chunks: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, the opening tag as written)
    tokens = _TOKEN.findall(line)
    current: list[str] = []
    size = 0
    last_space = -1  # index in `current` of the last whitespace token
    tags_at_space: list[tuple[str, str]] = []

    def closing(tags: list[tuple[str, str]]) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(tags))

    def opening(tags: list[tuple[str, str]]) -> str:
        return "".join(tag for _, tag in tags)

    for token in tokens:
        reserve = len(closing(open_tags)) + len(token)
        if size + reserve > limit and current:
            if last_space > 0:
                head, tail = current[:last_space], current[last_space + 1 :]
                head_tags = tags_at_space
            else:
                head, tail, head_tags = current, [], list(open_tags)
            chunks.append("".join(head) + closing(head_tags))
            current = [opening(head_tags), *tail]
            size = sum(len(t) for t in current)
            last_space = -1
        if token.isspace():
            last_space = len(current)
            tags_at_space = list(open_tags)
        match = _TAG.match(token)
        if match and token.startswith("<"):
            if match.group(1):
                if open_tags and open_tags[-1][0] == match.group(2).lower():
                    open_tags.pop()
            elif not token.endswith("/>"):
                open_tags.append((match.group(2).lower(), token))
        current.append(token)
        size += len(token)
    if current:
        chunks.append("".join(current))
    return [c for c in chunks if c.strip()]
