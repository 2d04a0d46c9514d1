"""The table of frequent word forms, analysed once per model instead of once per message.

Most words of a message are common ones (и, в, не, что, завтра, родители). The detector's
per-word cache learns them as messages arrive, but a fresh process or a flood of new
vocabulary starts cold; this table is there from the first message. The list of forms is
``moderation/data/frequent_words.txt`` (written by ``python -m moderation.train``, from the
toxic comments set and the school's everyday sentences, not from the comments the
benchmark reads); each form is kept lower-case and capitalised, as it is typed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

FREQUENT_PATH = Path(__file__).with_name("data") / "frequent_words.txt"

T = TypeVar("T")

_lock = threading.Lock()
_words: tuple[str, ...] | None = None
_tables: dict[int, tuple[object, dict]] = {}


def frequent_words(path: Path = FREQUENT_PATH) -> tuple[str, ...]:
    """The shipped list of frequent forms (empty if the file is missing)."""
    global _words
    if _words is None:
        words: tuple[str, ...] = ()
        if path.exists():
            words = tuple(w for w in path.read_text(encoding="utf-8").split() if w)
        _words = words
    return _words


def table_for(model: object, analyze: Callable[[list[str]], list[T]],
              capitalise: Callable[[str, T], T | None] | None = None) -> dict[str, T]:
    """The analysed frequent forms for this model (built on first use, then shared by every
    detector of the process that uses the same model). ``analyze`` reads many forms at
    once; ``capitalise`` derives the capitalised form's analysis from the lower-case one
    where it can (None: analyse it)."""
    key = id(model)
    got = _tables.get(key)
    if got is not None and got[0] is model:
        return got[1]
    with _lock:
        got = _tables.get(key)
        if got is not None and got[0] is model:
            return got[1]
        words = list(frequent_words())
        table: dict[str, T] = dict(zip(words, analyze(words), strict=True))
        unknown: list[str] = []
        for w in words:
            cap = w[:1].upper() + w[1:]
            if cap != w:
                derived = capitalise(cap, table[w]) if capitalise is not None else None
                if derived is None:
                    unknown.append(cap)
                else:
                    table[cap] = derived
        table.update(zip(unknown, analyze(unknown), strict=True))
        _tables[key] = (model, table)
        return table


def most_frequent(texts: list[str], tokens: Callable[[str], list[str]], limit: int,
                  min_docs: int = 3) -> list[str]:
    """The ``limit`` lower-case forms found in the most texts (at least ``min_docs``)."""
    df: dict[str, int] = {}
    for t in texts:
        for w in {x.lower() for x in tokens(t)}:
            df[w] = df.get(w, 0) + 1
    ranked = sorted((w for w, c in df.items() if c >= min_docs), key=lambda w: (-df[w], w))
    return ranked[:limit]
