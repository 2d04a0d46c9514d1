"""Benchmark of the moderation detector: quality and speed figures, in one run.

    .venv/bin/python -m bench.moderation [--errors N]

Speed is measured cold first (the per-word cache emptied before every message, distinct
comments built from the training file and the everyday school sentences: what a detector
pays for words it has never seen), then warm (a running service's cache). CPU time
(time.process_time) is the figure to read on a shared machine; the calibration line says
how busy the machine was.

Reads the shared data from ../shared/data next to the repository (override with
HUB_SHARED_DATA) and the everyday school set from tests/moderation/data/.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import moderation  # noqa: E402
from moderation import Detector  # noqa: E402
from moderation import model as model_mod  # noqa: E402

DATA = Path(os.environ.get("HUB_SHARED_DATA", ROOT.parent / "shared" / "data"))
EVERYDAY = ROOT / "tests" / "moderation" / "data" / "everyday_school.txt"


def read_dev(path: Path) -> tuple[list[str], list[str]]:
    pos, neg = [], []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        off = 1 if header[0] == "index" else 0
        for row in reader:
            if len(row) <= off:
                continue
            pos.append(row[off])
            neg.extend(c for c in row[off + 1 :] if c.strip())
    return pos, neg


def quality(det: Detector, errors: int) -> None:
    dev = DATA / "ru_detox_dev.tsv"
    if dev.exists():
        pos, neg = read_dev(dev)
        fn = [t for t in pos if det.check(t).allowed]
        fp = [t for t in neg if not det.check(t).allowed]
        tp = len(pos) - len(fn)
        p = tp / max(1, tp + len(fp))
        r = tp / max(1, len(pos))
        f1 = 2 * p * r / max(1e-9, p + r)
        print(f"dev set ({len(pos)} toxic, {len(neg)} neutral rewrites): precision {p:.4f}, "
              f"recall {r:.4f}, F1 {f1:.4f}, false-positive rate {len(fp) / len(neg):.4f} "
              f"({len(fp)} of {len(neg)})")
        for t in fn[:errors]:
            print("  missed:", t[:160])
        for t in fp[:errors]:
            v = det.check(t)
            print("  false alarm:", t[:160], "|", [(x.matched, x.rule) for x in v.reasons])
    else:
        print(f"dev set: {dev} not found (set HUB_SHARED_DATA)")
    tuning(det)
    forms = DATA / "ru_rude_wordforms.txt"
    if forms.exists():
        lines = [ln.strip() for ln in forms.open(encoding="utf-8") if ln.strip()]
        missed = [w for w in lines if det.check(w).allowed]
        print(f"rude word forms: recall {1 - len(missed) / len(lines):.4f} "
              f"({len(lines) - len(missed)} of {len(lines)})")
        if errors:
            rnd = random.Random(1)
            print("  missed sample:", " ".join(rnd.sample(missed, min(len(missed), errors * 4))))
    if EVERYDAY.exists():
        lines = [ln.strip() for ln in EVERYDAY.open(encoding="utf-8")
                 if ln.strip() and not ln.startswith("#")]
        flagged = [t for t in lines if not det.check(t).allowed]
        print(f"everyday school set: false-positive rate {len(flagged) / len(lines):.4f} "
              f"({len(flagged)} of {len(lines)})")
        for t in flagged[:errors]:
            v = det.check(t)
            print("  false alarm:", t[:160], "|", [(x.matched, x.rule) for x in v.reasons])


def tuning(det: Detector) -> None:
    """The figures the lexicon is tuned on (training data, not held out): recall on the 10k
    real toxic comments, and false holds on the training file's neutral rewrites, which are
    real comments with the abuse taken out."""
    toxic = DATA / "ru_toxic_10k.txt"
    if toxic.exists():
        lines = [ln.strip() for ln in toxic.open(encoding="utf-8") if ln.strip()]
        held = sum(not det.check(t).allowed for t in lines)
        print(f"10k toxic comments (tuning data): recall {held / len(lines):.4f} "
              f"({held} of {len(lines)})")
    train = DATA / "ru_detox_train.tsv"
    if train.exists():
        _, neutral = read_dev(train)
        held = sum(not det.check(t).allowed for t in neutral)
        print(f"training neutral rewrites (tuning data): false-positive rate "
              f"{held / len(neutral):.4f} ({held} of {len(neutral)})")


def typical_posts(n: int, lo: int, hi: int) -> list[str]:
    """Forum-like posts built from everyday sentences (mostly clean) and dev comments."""
    rnd = random.Random(42)
    pool: list[str] = []
    if EVERYDAY.exists():
        pool += [ln.strip() for ln in EVERYDAY.open(encoding="utf-8")
                 if ln.strip() and not ln.startswith("#")]
    dev = DATA / "ru_detox_dev.tsv"
    if dev.exists():
        pos, neg = read_dev(dev)
        pool += neg + pos[:100]
    if not pool:
        pool = ["Добрый день! Завтра родительское собрание в 18:00 в кабинете 21."]
    posts = []
    for _ in range(n):
        target = rnd.randint(lo, hi)
        parts: list[str] = []
        length = 0
        while length < target:
            s = rnd.choice(pool)
            parts.append(s)
            length += len(s) + 1
        posts.append(" ".join(parts)[:hi])
    return posts


def calibration() -> None:
    """A reference figure so the speed numbers can be read on a busy or slow machine."""
    best = min(_time_ref() for _ in range(5))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: sum(range(1000)) takes {best * 1e6:.1f} µs here (about 8 µs on an idle "
          f"modern core); load average {load:.1f} on {os.cpu_count()} cores")


def _time_ref() -> float:
    t = time.perf_counter()
    for _ in range(100):
        sum(range(1000))
    return (time.perf_counter() - t) / 100


def cold_comments(n: int, lo: int = 20, hi: int = 400, seed: int = 7,
                  abusive_share: float = 0.25) -> list[str]:
    """Distinct, realistic comments of lo..hi characters. An abusive one is built from the
    training file's toxic comments, a clean one from their neutral rewrites and the everyday
    school sentences (pieces of one kind joined to reach the length drawn), so that
    ``abusive_share`` of the comments are abusive: about what a busy public comment thread
    sees, far more than a school forum. The dev file is left for quality alone."""
    rnd = random.Random(seed)
    toxic: list[str] = []
    clean: list[str] = []
    train = DATA / "ru_detox_train.tsv"
    if train.exists():
        toxic, clean = read_dev(train)
    if EVERYDAY.exists():
        clean += [ln.strip() for ln in EVERYDAY.open(encoding="utf-8")
                  if ln.strip() and not ln.startswith("#")]
    pools = [[" ".join(t.split()) for t in p if t.strip()] for p in (toxic, clean)]
    for p in pools:
        rnd.shuffle(p)
    at = [0, 0]
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        kind = 0 if rnd.random() < abusive_share else 1
        pool = pools[kind]
        if at[kind] >= len(pool):
            break
        # Lengths spread log-uniformly over lo..hi (mean about 125 characters): short
        # replies are common, long posts rarer.
        target = int(lo * (hi / lo) ** rnd.random())
        parts: list[str] = []
        while at[kind] < len(pool) and sum(map(len, parts)) + len(parts) < target:
            parts.append(pool[at[kind]])
            at[kind] += 1
        t = " ".join(parts)
        if len(t) > target:  # cut at a word boundary
            cut = t.rfind(" ", 0, target)
            t = t[:cut] if cut >= lo else t[:target]
        if len(t) >= lo and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def posts_of(length: int, n: int, seed: int = 11) -> list[str]:
    """Distinct posts of exactly ``length`` characters made of training comments."""
    rnd = random.Random(seed)
    pool = cold_comments(8000, 20, 400, seed)
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) + len(parts) < length:
            parts.append(rnd.choice(pool))
        out.append(" ".join(parts)[:length])
    return out


def _timed_pass(det: Detector, texts: list[str], *, cold: bool
                ) -> tuple[float, list[float], list[float]]:
    """One pass: (CPU seconds, CPU times, wall times), the times sorted. Cold empties the
    word cache before every message; warm keeps it, filled by a first untimed pass."""
    cache = det._cache
    if not cold:
        for t in texts:
            det.check(t)
    cpus = []
    times = []
    gc.disable()
    for t in texts:
        if cold:
            cache.clear()
        c = time.process_time()
        w = time.perf_counter()
        det.check(t)
        times.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    gc.enable()
    return sum(cpus), sorted(cpus), sorted(times)


def cold_speed(det: Detector, passes: int = 3) -> None:
    """The cost of a message whose words the detector has not seen: the per-word cache is
    emptied before every message, so each one pays for all its words (the shared table of
    frequent forms stays, as it does in a running service). The best of ``passes`` passes
    is shown: other processes on a shared machine only ever slow a pass down."""
    comments = cold_comments(5000)
    for label, texts in (("cold comments, 25% abusive (20-400 chars)", comments),
                         ("cold comments, all clean", cold_comments(3000, abusive_share=0)),
                         ("cold comments, all abusive", cold_comments(3000, abusive_share=1)),
                         ("cold 400-char posts", posts_of(400, 2000))):
        cpu, cpus, times = min((_timed_pass(det, texts, cold=True) for _ in range(passes)),
                               key=lambda r: r[0])
        k = int(len(times) * 0.99)
        print(f"{label}: {len(texts)} distinct, mean {sum(map(len, texts)) / len(texts):.0f} "
              f"chars: CPU {cpu / len(texts) * 1e6:.0f} µs per message = "
              f"{len(texts) / cpu:,.0f} msg/s by CPU time; p99 {cpus[k] * 1e6:.0f} µs CPU, "
              f"wall median {statistics.median(times) * 1e6:.0f} µs, p99 {times[k] * 1e6:.0f} µs")
    # The same comments in one stream from an empty cache: words repeat across comments.
    det._cache.clear()
    c = time.process_time()
    for t in comments:
        det.check(t)
    cpu = time.process_time() - c
    print(f"cold stream (cache empty at the start, {len(comments)} comments): "
          f"{len(comments) / cpu:,.0f} msg/s by CPU time")
    # The same comments again with every word known: the warm figure to set beside the
    # cold one (the typical posts below are other, longer texts).
    cpu, cpus, times = min((_timed_pass(det, comments, cold=False) for _ in range(passes)),
                           key=lambda r: r[0])
    k = int(len(times) * 0.99)
    print(f"warm, the same comments (every word cached): CPU {cpu / len(comments) * 1e6:.0f} "
          f"µs per message = {len(comments) / cpu:,.0f} msg/s by CPU time; p99 "
          f"{cpus[k] * 1e6:.0f} µs CPU")


def speed(det_factory) -> None:
    t0 = time.perf_counter()
    det = det_factory()
    build_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    det.rebuild()
    build_warm = time.perf_counter() - t0
    print(f"another detector in the same process: {build_cold * 1000:.1f} ms (the model and the "
          f"frequent forms are shared), {build_warm * 1000:.1f} ms rebuild")

    for label, lo, hi, n in (("typical posts (100-500 chars)", 100, 500, 20000),
                             ("4 KB posts", 3900, 4096, 2000)):
        posts = typical_posts(n, lo, hi)
        for p in posts[: n // 4]:  # warm the word cache as a running service would be
            det.check(p)
        gc.disable()
        times = []
        t_all = time.perf_counter()
        c_all = time.process_time()
        for p in posts:
            t = time.perf_counter()
            det.check(p)
            times.append(time.perf_counter() - t)
        total = time.perf_counter() - t_all
        cpu = time.process_time() - c_all
        gc.enable()
        times.sort()
        p99 = times[int(len(times) * 0.99)]
        # Wall clock counts the time other processes take the core from us; CPU time
        # (time.process_time) is what the detector itself costs.
        print(f"{label}: wall {len(posts) / total:,.0f} messages/s, "
              f"CPU {len(posts) / cpu:,.0f} messages/s ({cpu / len(posts) * 1e6:.0f} µs CPU "
              f"per message), p99 {p99 * 1e6:.0f} µs, median "
              f"{statistics.median(times) * 1e6:.0f} µs wall "
              f"(mean length {sum(map(len, posts)) / len(posts):.0f} chars)")
    big = " ".join(typical_posts(1, 100, 500)[0] for _ in range(2500))[: 1 << 20]
    t = time.perf_counter()
    v = det.check(big)
    print(f"1 MB text: {time.perf_counter() - t:.2f} s, action {v.action.value}")


def memory() -> None:
    gc.collect()
    model_mod._cached = None
    tracemalloc.start()
    det = Detector()
    for p in typical_posts(2000, 100, 500):
        det.check(p)
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = model_mod.MODEL_PATH.stat().st_size
    print(f"memory: {cur / 1e6:.1f} MB for the detector with its model and a warm word cache "
          f"(peak {peak / 1e6:.1f} MB); model file {size / 1e6:.2f} MB")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0, help="show N errors of each kind")
    args = ap.parse_args()
    model_mod._cached = None
    calibration()
    print(f"detector implementation: {getattr(moderation, 'IMPLEMENTATION', 'python')}")
    t0 = time.perf_counter()
    det = Detector()
    print(f"detector build: {(time.perf_counter() - t0) * 1000:.0f} ms first in the process "
          f"(loads the model and analyses the {len(det._frequent):,} frequent forms)")
    cold_speed(det)
    speed(Detector)
    det = Detector()
    quality(det, args.errors)
    memory()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
