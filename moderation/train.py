"""Train the toxicity model: ``python -m moderation.train [--data DIR] [--out FILE]``.

Reads only the *training* file from the shared data directory (the dev file is kept for
measuring): every ``toxic_comment`` of ``ru_detox_train.tsv`` is a positive, every neutral
rewrite a negative (``--extra`` adds ``ru_toxic_10k.txt`` as positives).
Texts go through the detector's own normalisation, so the model sees the same
words at run time. The decision threshold is chosen on out-of-fold predictions of the
training set, for the combined rule "lexicon finding or model score >= threshold", as the
lowest threshold whose false-positive rate on the negatives stays under ``--max-fpr``.

This script may import scikit-learn; the run-time code never does.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .detector import MODEL_MIN_WORDS, Detector
from .frequent import FREQUENT_PATH, most_frequent
from .model import MODEL_PATH, save, word_features

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def data_dir() -> Path:
    return Path(os.environ.get("HUB_SHARED_DATA", DEFAULT_DATA))


def read_detox(path: Path) -> tuple[list[str], list[str]]:
    """(toxic comments, neutral rewrites) of a detox TSV file (with or without index)."""
    pos: list[str] = []
    neg: list[str] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        off = 1 if header and header[0] == "index" else 0
        for row in reader:
            if len(row) <= off:
                continue
            pos.append(row[off])
            for c in row[off + 1 :]:
                if c.strip():
                    neg.append(c)
    return pos, neg


def detox_groups(path: Path) -> list[int]:
    """For each text of ``read_detox`` (positives first, then negatives), the row it came
    from: a toxic comment and its rewrites share a group, so cross-validation keeps them in
    the same fold (otherwise a rewrite leaks its comment's words into the other folds)."""
    pos: list[int] = []
    neg: list[int] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        off = 1 if header and header[0] == "index" else 0
        for k, row in enumerate(reader):
            if len(row) <= off:
                continue
            pos.append(k)
            neg.extend(k for c in row[off + 1 :] if c.strip())
    return pos + neg


EVERYDAY = Path(__file__).resolve().parents[1] / "tests" / "moderation" / "data" / \
    "everyday_school.txt"


def write_frequent(data: Path, out: Path = FREQUENT_PATH, limit: int = 20000,
                   min_docs: int = 2) -> int:
    """The list of frequent forms (see ``moderation.frequent``), from the toxic comments set
    and the everyday school sentences: not from the detox file the benchmark reads."""
    texts: list[str] = []
    if (data / "ru_toxic_10k.txt").exists():
        texts += (data / "ru_toxic_10k.txt").read_text(encoding="utf-8").splitlines()
    if EVERYDAY.exists():
        texts += [ln for ln in EVERYDAY.read_text(encoding="utf-8").splitlines()
                  if not ln.startswith("#")]
    words = [w for w in most_frequent(texts, _tokens, limit, min_docs) if len(w) <= 24]
    out.write_text("\n".join(words) + "\n", encoding="utf-8")
    return len(words)


@dataclass(frozen=True)
class Fitted:
    """A trained model's parts, ready for ``model.save``."""

    weights: dict[str, float]
    bias: float
    threshold: float
    weak_threshold: float
    oof_f1: float


def fit(texts: list[str], y: np.ndarray, groups: np.ndarray, is_detox: np.ndarray, *,
        C: float = 30.0, max_fpr: float = 0.02, min_df: int = 2,
        orders: tuple[int, ...] = (4,)) -> Fitted:
    """Fit the model and choose its thresholds on grouped out-of-fold predictions (texts of
    one group never straddle folds). ``is_detox`` marks the texts thresholds are chosen on."""
    from sklearn.feature_extraction import DictVectorizer  # training only
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    args = SimpleNamespace(C=C, max_fpr=max_fpr, min_df=min_df)
    det = Detector(use_model=False)
    docs = []
    lex = np.zeros(len(texts), dtype=bool)
    weak = np.zeros(len(texts), dtype=bool)  # a weak word that nothing aims at anyone
    ntok = np.zeros(len(texts), dtype=int)
    for i, t in enumerate(texts):
        toks = _tokens(t)
        words = [w for m in toks for w in det._info(m).model_words]
        ntok[i] = len(toks)
        weak[i] = any((h := det._info(m).hit) is not None and h.rule.model_ok for m in toks)
        feats: dict[str, float] = {}
        for w in words:
            for f in word_features(w, orders):
                feats[f] = feats.get(f, 0.0) + 1.0
        total = sum(feats.values())
        if total:
            s = 1.0 / total
            feats = {k: v * s for k, v in feats.items()}
        docs.append(feats)
        lex[i] = not det.check(t).allowed
    # Keep features seen in at least min_df documents.
    df: dict[str, int] = {}
    for d in docs:
        for k in d:
            df[k] = df.get(k, 0) + 1
    keep = {k for k, c in df.items() if c >= args.min_df}
    docs = [{k: v for k, v in d.items() if k in keep} for d in docs]
    vec = DictVectorizer()
    X = vec.fit_transform(docs).tocsr()
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    print(f"{len(texts)} texts ({int(y.sum())} toxic, {int((y == 0).sum())} neutral),"
          f" {X.shape[1]} features,"
          f" lexicon flags {lex[y == 1].mean():.3f} of toxic, {lex[y == 0].mean():.3f} of neutral",
          file=sys.stderr)

    def fit(Xt, yt):
        clf = LogisticRegression(C=args.C, max_iter=2000, solver="liblinear",
                                 class_weight="balanced")
        return clf.fit(Xt, yt)

    oof = np.zeros(len(texts))
    for tr, te in GroupKFold(5).split(X, y, groups):
        oof[te] = fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    # Threshold: on the detox part only (that is what the neutral rewrites exist for).
    m = is_detox
    best = (0.99, 0.0)
    for thr in np.arange(0.30, 0.99, 0.01):
        flag = lex | ((oof >= thr) & (ntok >= MODEL_MIN_WORDS))
        tp = int((flag & (y == 1) & m).sum())
        fp = int((flag & (y == 0) & m).sum())
        fn = int((~flag & (y == 1) & m).sum())
        fpr = fp / max(1, int(((y == 0) & m).sum()))
        f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if fpr <= args.max_fpr and f1 > best[1]:
            best = (float(thr), f1)
    thr, f1 = best
    print(f"out-of-fold: threshold {thr:.2f}, F1 {f1:.4f}", file=sys.stderr)
    # The lower threshold for weak words not aimed at anyone (гнида, петух, посадить): the
    # one that adds most F1 while the false-positive rate stays under the cap, and adds at
    # most a quarter of the cap itself (the school's everyday text is not the detox data).
    base = lex | ((oof >= thr) & (ntok >= MODEL_MIN_WORDS))
    base_fp = int((base & (y == 0) & m).sum())
    n_neg = max(1, int(((y == 0) & m).sum()))
    # The model's word must be unusual for clean text too: no lower than the score that 1 in
    # 20 neutral rewrites reaches (the neutral rewrites hardly ever hold a weak word, so the
    # false-positive cap alone would let the threshold sink to where clean text sits).
    floor = float(np.quantile(oof[(y == 0) & m], 0.95))
    print(f"out-of-fold scores of neutral texts: median {np.median(oof[(y == 0) & m]):.2f},"
          f" 95th percentile {floor:.2f}", file=sys.stderr)
    wbest = (1.0, f1)
    for wthr in np.arange(np.ceil(floor * 100) / 100, thr + 1e-9, 0.01):
        flag = base | (weak & (oof >= wthr))
        tp = int((flag & (y == 1) & m).sum())
        fp = int((flag & (y == 0) & m).sum())
        fn = int((~flag & (y == 1) & m).sum())
        wf1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if fp / n_neg <= args.max_fpr and (fp - base_fp) / n_neg <= args.max_fpr / 4 \
                and wf1 > wbest[1]:
            wbest = (float(wthr), wf1)
    wthr, wf1 = wbest
    print(f"out-of-fold: weak-word threshold {wthr:.2f}, F1 {wf1:.4f}", file=sys.stderr)

    clf = fit(X, y)
    coef = clf.coef_[0]
    names = vec.get_feature_names_out()
    weights = {str(n): float(c) for n, c in zip(names, coef, strict=True) if abs(c) >= 0.02}
    return Fitted(weights, float(clf.intercept_[0]), thr, wthr, f1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=data_dir())
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--C", type=float, default=5.0)
    ap.add_argument("--max-fpr", type=float, default=0.02)
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--orders", default="4",
                    help="n-gram lengths, comma-separated (plus the whole word): fewer "
                         "lengths, fewer look-ups per unseen word at run time")
    ap.add_argument("--extra", action="store_true",
                    help="also train on ru_toxic_10k.txt as positives (off: it teaches the model "
                         "that unfamiliar vocabulary is toxic, and school words then look toxic)")
    ap.add_argument("--frequent", type=int, default=20000,
                    help="also write the list of this many frequent forms (0: leave it)")
    args = ap.parse_args(argv)
    if args.frequent:
        n = write_frequent(args.data, limit=args.frequent)
        print(f"wrote {FREQUENT_PATH} ({n} forms)", file=sys.stderr)

    orders = tuple(sorted(int(x) for x in args.orders.split(",")))
    t0 = time.perf_counter()
    pos, neg = read_detox(args.data / "ru_detox_train.tsv")
    n_detox_pos = len(pos)
    if args.extra and (args.data / "ru_toxic_10k.txt").exists():
        extra = [ln.strip() for ln in (args.data / "ru_toxic_10k.txt").open(encoding="utf-8")]
        pos += [x for x in extra if x]
    texts = pos + neg
    base_groups = detox_groups(args.data / "ru_detox_train.tsv")
    n_extra = len(pos) - n_detox_pos
    groups = np.array(base_groups[:n_detox_pos] + [-1 - k for k in range(n_extra)]
                      + base_groups[n_detox_pos:])
    y = np.array([1] * len(pos) + [0] * len(neg))
    is_detox = np.array([1] * n_detox_pos + [0] * (len(pos) - n_detox_pos) + [1] * len(neg),
                        dtype=bool)

    fitted = fit(texts, y, groups, is_detox, C=args.C, max_fpr=args.max_fpr,
                 min_df=args.min_df, orders=orders)
    weights, thr, wthr = fitted.weights, fitted.threshold, fitted.weak_threshold
    source = (f"ru_detox_train.tsv{' + ru_toxic_10k.txt' if args.extra else ''} (RUSSE-2022);"
              f" logistic regression C={args.C}, character {args.orders}-grams and whole"
              f" normalised words, {len(weights)} weights")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(args.out, weights, fitted.bias, thr, source, wthr, orders)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(weights)} weights)"
          f" in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


def _tokens(text: str) -> list[str]:
    from .normalize import TOKEN_RE

    return [m.group() for m in TOKEN_RE.finditer(text)]


if __name__ == "__main__":
    raise SystemExit(main())
