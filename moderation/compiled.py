"""The detector's compiled parts, when the extensions are built, else their Python twins.

``moderation/_plainread.pyx`` (reading plain unseen words, and a message's look-ups and
sums over token analyses) and ``moderation/_tokenize.pyx``
(cutting a text into tokens) are compiled at install time if Cython and a C compiler are
there (see ``setup.py``). Without them the detector does the same in Python, with the
same results. ``IMPLEMENTATION`` says which one runs; the environment variable
``HUB_MODERATION_PURE_PYTHON=1`` makes a process use the Python twins.
"""

from __future__ import annotations

import os
import re
import threading

from . import lexicon
from .model import MAX_WORD, ToxicityModel
from .normalize import TOKEN_RE
from .reading import _ROOT_EDGES, _ROOTS

try:
    if os.environ.get("HUB_MODERATION_PURE_PYTHON"):  # to compare the two, or rule one out
        raise ImportError("the pure-Python detector was asked for")
    from ._plainread import PlainReader
    from ._tokenize import token_bounds, tokens
except ImportError:  # not built: Python does it all
    PlainReader = None  # type: ignore[assignment,misc]
    _start = re.Match.start
    _end = re.Match.end
    tokens = TOKEN_RE.findall  # type: ignore[assignment]  # (the bound method: no wrapper)

    def token_bounds(text: str) -> tuple[list[int], list[int]]:
        found = list(TOKEN_RE.finditer(text))
        return list(map(_start, found)), list(map(_end, found))

IMPLEMENTATION = "python" if PlainReader is None else "compiled"

_lock = threading.Lock()
_readers: dict[int, tuple[ToxicityModel | None, PlainReader | None]] = {}


def reader_for(model: ToxicityModel | None, info_class: type) -> PlainReader | None:
    """The compiled reader for this model (one per model, shared by its detectors); None
    if the extension is not built or cannot read this model's features."""
    if PlainReader is None:
        return None
    if model is not None and model._scan is None:
        return None  # features cut out and added in another order: the Python path's
    key = id(model)
    got = _readers.get(key)
    if got is not None and got[0] is model:
        return got[1]
    with _lock:
        try:
            reader: PlainReader | None = PlainReader(
                model, _ROOTS.iter, info_class, address_words=lexicon.ADDRESS_WORDS,
                short_words=lexicon.SHORT_WORDS, root_edges=_ROOT_EDGES, max_word=MAX_WORD)
        except (TypeError, ValueError):
            # Weights not all floats, n-grams too long to pack, or an analysis class that
            # is not a plain tuple: the Python path reads them.
            reader = None
        _readers[key] = (model, reader)
        return reader
