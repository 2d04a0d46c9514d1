"""Text from people, checked for characters that change how the rest of the page reads.

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
