"""The statistical scorer: a linear model over character n-grams of normalised words.

Features of a text are the character 2..5-grams of each normalised word padded with
spaces (`` word ``) plus the whole word, counted and divided by the number of features
(so the score does not drift with length: a clean sentence repeated is still clean).
Because the model is linear and the features are per word, a word's
contribution (sum of its n-gram weights, number of n-grams) is computed once and cached;
scoring a message is then a dictionary lookup per word.

The weights live in ``moderation/data/toxicity.npz`` (written by ``python -m
moderation.train``), are loaded once per process, and need only numpy.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from pathlib import Path

import numpy as np

try:  # pyahocorasick finds all of a word's features in one scan, without cutting them out
    import ahocorasick
except ImportError:  # pragma: no cover - the dependency is declared
    ahocorasick = None

MODEL_PATH = Path(__file__).with_name("data") / "toxicity.npz"
NGRAM_MIN = 2
NGRAM_MAX = 5
MAX_WORD = 40  # longer "words" contribute their first MAX_WORD characters


# The n-gram lengths of the first model (2..5); a model file names its own.
LEGACY_ORDERS = tuple(range(NGRAM_MIN, NGRAM_MAX + 1))


def word_features(word: str, orders: tuple[int, ...] = LEGACY_ORDERS) -> list[str]:
    """The features one normalised word contributes: its character n-grams of the given
    lengths (padded with spaces) and the whole word."""
    padded = f" {word[:MAX_WORD]} "
    return [padded[s] for s in _slices(len(padded), orders)]


_ZEROS = repeat(0.0)  # the default for every feature lookup (an endless iterator)
_value_of = itemgetter(1)
_SLICES: dict[tuple[int, tuple[int, ...]], tuple[slice, ...]] = {}


def _slices(size: int, orders: tuple[int, ...]) -> tuple[slice, ...]:
    """The features of a padded word of this length, as slices: cutting them out and looking
    them up then runs as ``map`` calls in C, with no Python loop per n-gram."""
    got = _SLICES.get((size, orders))
    if got is None:
        got = tuple(slice(i, i + n) for n in orders for i in range(size - n + 1))
        if size not in orders:  # the whole word, unless an n-gram already is (short words too)
            got += (slice(0, size),)
        _SLICES[(size, orders)] = got
    return got


@dataclass(frozen=True, slots=True)
class ToxicityModel:
    """A linear scorer: ``sigmoid(bias + sum(weights) / count)``."""

    weights: dict[str, float]
    bias: float
    threshold: float  # decision threshold chosen at training time (out-of-fold)
    source: str
    # A lower threshold at which a weak lexicon word (гнида, петух, даун, посадить) holds
    # even when no ты/вы aims it at someone: chosen out-of-fold too (1.0: never).
    weak_threshold: float = 1.0
    orders: tuple[int, ...] = LEGACY_ORDERS
    _get: object = field(init=False, repr=False, compare=False)
    _cuts: dict[int, tuple[slice, ...]] = field(init=False, repr=False, compare=False)
    _scan: object = field(init=False, repr=False, compare=False)
    _counts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_get", self.weights.get)
        object.__setattr__(self, "_cuts", {})
        object.__setattr__(self, "_scan", self._feature_scanner())
        object.__setattr__(self, "_counts",
                           [len(_slices(n + 2, self.orders)) for n in range(MAX_WORD + 1)])

    def _feature_scanner(self) -> object:
        """An automaton over the weighted features, or None (then features are cut out and
        looked up). Every occurrence of a key in a padded word is one of the word's
        features: an n-gram of a length the model uses, or the whole padded word (spaces at
        both ends, so it matches nowhere else); other keys could never be features."""
        if ahocorasick is None:  # pragma: no cover - the dependency is declared
            return None
        automaton = ahocorasick.Automaton()
        for key, weight in self.weights.items():
            inner = key[1:-1]
            if " " in inner or "\n" in key or not key:
                continue
            if len(key) in self.orders or (key[0] == " " and key[-1] == " "):
                automaton.add_word(key, weight)
        if len(automaton) == 0:
            return None
        automaton.make_automaton()
        return automaton.iter

    def word_contribution(self, word: str) -> tuple[float, int]:
        """The sum of a word's feature weights and the number of its features."""
        word = word[:MAX_WORD]
        scan = self._scan
        if scan is not None:
            return sum(map(_value_of, scan(f" {word} ")), 0.0), self._counts[len(word)]  # type: ignore[operator]
        padded = f" {word} "
        cuts = self._cuts.get(len(padded)) or self._cut_for(len(padded))
        # dict.get mapped over two iterables (key, default) keeps the loop in C; typeshed's
        # map() overloads do not describe a bound method taking both.
        weights = map(self._get, map(padded.__getitem__, cuts), _ZEROS)  # type: ignore[call-overload]
        return sum(weights, 0.0), len(cuts)

    def contributions(self, words: Sequence[str]) -> tuple[list[float], list[int]]:
        """``word_contribution`` of many words at once."""
        if max(map(len, words), default=0) > MAX_WORD:
            words = [w[:MAX_WORD] for w in words]
        counts = list(map(self._counts.__getitem__, map(len, words)))
        scan = self._scan
        if scan is None:  # pragma: no cover - the dependency is declared
            return [self.word_contribution(w)[0] for w in words], counts
        return [sum(map(_value_of, scan(f" {w} ")), 0.0) for w in words], counts  # type: ignore[operator]

    def _cut_for(self, size: int) -> tuple[slice, ...]:
        cuts = _slices(size, self.orders)
        self._cuts[size] = cuts
        return cuts

    def probability(self, total_weight: float, count: int) -> float:
        if count <= 0:
            return 1.0 / (1.0 + math.exp(-self.bias))
        z = self.bias + total_weight / count
        if z < -40:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def score_words(self, words: list[str]) -> float:
        w = 0.0
        n = 0
        for word in words:
            dw, dn = self.word_contribution(word)
            w += dw
            n += dn
        return self.probability(w, n)


def save(path: Path, weights: dict[str, float], bias: float, threshold: float,
         source: str, weak_threshold: float = 1.0,
         orders: tuple[int, ...] = LEGACY_ORDERS) -> None:
    keys = "\n".join(weights)
    np.savez_compressed(
        path,
        keys=np.frombuffer(keys.encode("utf-8"), dtype=np.uint8),
        weights=np.asarray(list(weights.values()), dtype=np.float16),
        meta=np.asarray([bias, threshold, weak_threshold], dtype=np.float64),
        source=np.frombuffer(source.encode("utf-8"), dtype=np.uint8),
        orders=np.asarray(orders, dtype=np.int8),
    )


def load(path: Path = MODEL_PATH) -> ToxicityModel:
    with np.load(path, allow_pickle=False) as z:
        keys = z["keys"].tobytes().decode("utf-8").split("\n")
        weights = z["weights"].astype(np.float64).tolist()
        meta = [float(x) for x in z["meta"]]
        source = z["source"].tobytes().decode("utf-8")
        orders = tuple(int(x) for x in z["orders"]) if "orders" in z else LEGACY_ORDERS
    bias, threshold = meta[0], meta[1]
    weak = meta[2] if len(meta) > 2 else 1.0
    return ToxicityModel(dict(zip(keys, weights, strict=True)), bias, threshold, source, weak,
                         orders)


_lock = threading.Lock()
_cached: ToxicityModel | None = None
_cached_path: Path | None = None  # the file _cached was loaded from
INSTALLED_NAME = "toxicity.npz"


def installed_path(data_dir: Path) -> Path:
    """Where ``hub moderation retrain`` installs a school's own model in the data dir."""
    return data_dir / "moderation" / INSTALLED_NAME


def use_installed(data_dir: Path) -> bool:
    """At start-up, before the first detector is built: use the school's retrained model
    from the data dir if ``hub moderation retrain`` installed one, else the shipped one.
    True if that changed the model in use."""
    global _cached, _cached_path
    installed = installed_path(data_dir)
    wanted = installed if installed.exists() else MODEL_PATH
    if _cached is not None and _cached_path == wanted:
        return False
    if not wanted.exists():
        return False
    model = load(wanted)
    with _lock:
        _cached, _cached_path = model, wanted
    return True


def default_model() -> ToxicityModel | None:
    """The shipped model, loaded once per process; None if the file is missing."""
    global _cached, _cached_path
    if _cached is None:
        with _lock:
            if _cached is None and MODEL_PATH.exists():
                _cached, _cached_path = load(MODEL_PATH), MODEL_PATH
    return _cached
