"""The compiled reader of plain unseen words, when the extension is built.

``moderation/_plainread.pyx`` is compiled at install time if Cython and a C compiler are
there (see ``setup.py``); without it the detector reads every word in Python, with the
same results. ``IMPLEMENTATION`` says which one runs.
"""

from __future__ import annotations

import threading

from . import lexicon
from .model import MAX_WORD, ToxicityModel
from .reading import _ROOT_EDGES, _ROOTS

try:
    from ._plainread import PlainReader
except ImportError:  # not built: the pure-Python path reads every word
    PlainReader = None  # type: ignore[assignment,misc]

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
        except (TypeError, ValueError):  # weights not all floats, n-grams too long to pack
            reader = None
        _readers[key] = (model, reader)
        return reader
