"""Text from people, checked for characters that change how the rest of the page reads and
for characters no database column can keep.

Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) make "report‮fdp.exe"
show as "reportexe.pdf": in a file name they only ever serve to disguise it. Nothing the
hub shows as a name needs them, so they are removed from names on the way in and, for
what was stored before, on the way out.
"""

from __future__ import annotations

import re

# LRM, RLM, ALM; LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    return BIDI_CONTROLS.sub("", text)


def unstorable(text: str) -> bool:
    """Whether `text` holds what no text column can keep: NUL (PostgreSQL refuses it,
    SQLite would store it and cut the text short for C readers) or a lone surrogate (bytes
    that were not UTF-8, which cannot be written back as UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
