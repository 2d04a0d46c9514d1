"""Moderation: the detector that decides whether a message is published, held for a
moderator, or refused. Pure: no I/O at check time, imports nothing from the project.

    >>> import moderation
    >>> moderation.check("ты тупой").action
    <Action.HOLD: 'hold'>
"""

from __future__ import annotations

import threading
from pathlib import Path

from .compiled import IMPLEMENTATION
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
    "IMPLEMENTATION",
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
    "configure_detector",
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


def configure_detector(*, data_dir: Path | None = None,
                       rude_unless_aimed: bool = False) -> Detector:
    """At start-up, before the first message: take the school's retrained model from the
    data dir if ``hub moderation retrain`` installed one, and build the process-wide
    detector with the school's setting for rude words (policy 7.6 holds them; a school may
    let them pass unless aimed at a person). Per-school detectors are rebuilt from it."""
    from .model import use_installed

    model_changed = use_installed(data_dir) if data_dir is not None else False
    current = _default
    if (current is not None and not model_changed
            and current.rude_unless_aimed == rude_unless_aimed):
        return current  # every process and test app configures; build only on a change
    detector = Detector(rude_unless_aimed=rude_unless_aimed)
    set_default_detector(detector)
    return detector


def check(text: str, *, title: str = "") -> Verdict:
    """Judge a message with the default detector."""
    return default_detector().check(text, title=title)


def mask(text: str, *, obscene: bool = False) -> str:
    """Mask the watched words set to *mask* (and, with ``obscene=True``, every obscene,
    insulting or rude word found)."""
    return default_detector().mask(text, obscene=obscene)
