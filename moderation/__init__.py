"""Moderation: the detector that decides whether a message is published, held for a
moderator, or refused. Pure: no I/O at check time, imports nothing from the project.

    >>> import moderation
    >>> moderation.check("ты тупой").action
    <Action.HOLD: 'hold'>
"""

from __future__ import annotations

import threading

from .detector import (
    Action,
    Detector,
    DetectorSettings,
    Reason,
    Verdict,
    WatchAction,
    WatchedWord,
)
from .lexicon import Category
from .normalize import Normalized, normalize

__all__ = [
    "Action",
    "Category",
    "Detector",
    "DetectorSettings",
    "Normalized",
    "Reason",
    "Verdict",
    "WatchAction",
    "WatchedWord",
    "check",
    "default_detector",
    "mask",
    "normalize",
    "set_default_detector",
]

_lock = threading.Lock()
_default: Detector | None = None


def default_detector() -> Detector:
    """The process-wide detector behind ``check`` and ``mask`` (built on first use)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Detector()
    return _default


def set_default_detector(detector: Detector) -> None:
    """Swap the process-wide detector, e.g. after an administrator changed watched words."""
    global _default
    _default = detector


def check(text: str, *, title: str = "") -> Verdict:
    """Judge a message with the default detector."""
    return default_detector().check(text, title=title)


def mask(text: str, *, obscene: bool = False) -> str:
    """Mask the watched words set to *mask* (and, with ``obscene=True``, every obscene,
    insulting or rude word found)."""
    return default_detector().mask(text, obscene=obscene)
