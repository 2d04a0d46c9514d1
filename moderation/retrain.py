"""``hub moderation retrain``: fit the model on the shipped training data plus the school's
own decisions, and install it only if it judges the school's messages better.

A part of the decisions (chosen by item id, so the same items on every run) is held back:
the new model never sees it, and both the model in use and the new one are measured on it
with the whole detector (lexicon, rules and model), as moderators would see the result.
The new model is written to the data dir (``model.installed_path``) only when its F1 on the
held-back part is higher; ``model.use_installed`` loads it at the next start.

Training needs scikit-learn (``pip install 'school-hub[train]'``); nothing else does.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from moderation.decisions import Decision, decided
from moderation.detector import Detector
from moderation.model import ToxicityModel, default_model, installed_path, load, save

MIN_DECISIONS = 20  # fewer labelled decisions than this teach nothing reliable
HELD_BACK_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    n: int


@dataclass(frozen=True, slots=True)
class RetrainResult:
    trained_on: int  # school decisions the new model learnt from
    held_back: int
    before: Scores | None
    after: Scores | None
    installed: Path | None
    message: str


def held_back(item_id: int) -> bool:
    """The same ~30% of items on every run: a fixed hash of the id, not a random draw."""
    return (item_id * 2654435761) % 1000 < HELD_BACK_SHARE * 1000


def score(detector: Detector, examples: Sequence[tuple[str, bool]]) -> Scores:
    """How the detector's hold/allow matches the moderators' labels."""
    tp = fp = fn = 0
    for text, abusive in examples:
        held = not detector.check(text).allowed
        tp += held and abusive
        fp += held and not abusive
        fn += (not held) and abusive
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    return Scores(round(p, 4), round(r, 4), round(2 * p * r / max(1e-9, p + r), 4),
                  len(examples))


def _fit(base: tuple[list[str], list[int], list[int]], school: list[tuple[str, bool]],
         out: Path, orders: tuple[int, ...]) -> ToxicityModel:
    from moderation.train import fit  # scikit-learn: only when retraining

    texts, labels, groups = base
    all_texts = texts + [t for t, _ in school]
    y = np.array(labels + [int(a) for _, a in school])
    g = np.array(groups + [-(10**9) - k for k in range(len(school))])
    is_detox = np.ones(len(all_texts), dtype=bool)
    f = fit(all_texts, y, g, is_detox, orders=orders)
    save(out, f.weights, f.bias, f.threshold,
         f"shipped data + {len(school)} school decisions", f.weak_threshold, orders)
    return load(out)


def shipped_examples(data: Path) -> tuple[list[str], list[int], list[int]]:
    """The shipped training set: detox comments (1) and their rewrites (0), with groups."""
    from moderation.train import detox_groups, read_detox

    path = data / "ru_detox_train.tsv"
    pos, neg = read_detox(path)
    return pos + neg, [1] * len(pos) + [0] * len(neg), detox_groups(path)


async def retrain(session: AsyncSession, school_id: int, *, data: Path, data_dir: Path,
                  current: ToxicityModel | None = None) -> RetrainResult:
    """Retrain on the school's decisions; install into ``data_dir`` only if better."""
    decisions = [d for d in await decided(session, school_id) if d.abusive is not None]
    return await asyncio.to_thread(retrain_on, decisions, data=data, data_dir=data_dir,
                                   current=current)


def retrain_on(decisions: Sequence[Decision], *, data: Path, data_dir: Path,
               current: ToxicityModel | None = None) -> RetrainResult:
    """The CPU-bound part of ``retrain`` (runs in a thread)."""
    labelled = [(d.item_id, d.text, bool(d.abusive)) for d in decisions
                if d.abusive is not None]
    test = [(t, a) for i, t, a in labelled if held_back(i)]
    train = [(t, a) for i, t, a in labelled if not held_back(i)]
    if len(labelled) < MIN_DECISIONS or not test or len({a for _, a in train}) < 2:
        return RetrainResult(len(train), len(test), None, None, None,
                             f"нужно не меньше {MIN_DECISIONS} решений модераторов с обоими "
                             f"исходами; сейчас {len(labelled)}")
    current = current or default_model()
    before = score(Detector(model=current), test)
    target = installed_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        orders = current.orders if current is not None else (4,)
        new = _fit(shipped_examples(data), train, tmp_path, orders)
        after = score(Detector(model=new), test)
        if after.f1 > before.f1:
            os.replace(tmp_path, target)
            return RetrainResult(len(train), len(test), before, after, target,
                                 "новая модель лучше и установлена; она загрузится при "
                                 "следующем запуске")
        return RetrainResult(len(train), len(test), before, after, None,
                             "новая модель не лучше прежней; оставлена прежняя")
    finally:
        tmp_path.unlink(missing_ok=True)
