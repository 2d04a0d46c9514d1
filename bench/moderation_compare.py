"""Do two checkouts of the detector give the same verdicts? A guard for speed work.

    .venv/bin/python -m bench.moderation_compare /path/to/reference/checkout [--quick]

Builds a large, varied set of texts (the dev set, the everyday school set, the benchmark's
comments and long posts, rude word forms, the 10k toxic comments, and disguised spellings
of rude words: masks, Latin look-alikes, letters split by spaces or dots, repeated letters,
joined words), judges every text with this checkout's detector and with the reference's,
each in a process of its own, under several settings (watched words, titles, refusing
obscenity, rude words passing unless aimed), with the word cache emptied before every
message and again with a warm cache, and prints how many verdicts differ (action, score,
categories, reasons with their spans, model score). Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HUB_SHARED_DATA", ROOT.parent / "shared" / "data"))
EVERYDAY = ROOT / "tests" / "moderation" / "data" / "everyday_school.txt"

# Settings to judge under: (name, Detector keyword arguments as plain data).
SETTINGS: list[tuple[str, dict]] = [
    ("default", {}),
    ("strict", {"refuse_obscene": True, "rude_unless_aimed": True}),
    ("watched", {"watched": [("дур*", "hold"), ("контрольн? работа", "refuse"),
                             ("вейп*", "mask"), ("сбор денег", "hold"), ("сук?", "mask"),
                             ("учител*", "hold")]}),
    ("no-model", {"use_model": False}),
]

_LOOKALIKE = str.maketrans({"а": "a", "о": "o", "е": "e", "р": "p", "с": "c", "х": "x",
                            "у": "y", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h"})


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [ln.strip() for ln in path.open(encoding="utf-8")
            if ln.strip() and not ln.startswith("#")]


def _disguised(word: str, rnd: random.Random) -> list[str]:
    """Spellings of one word that a writer uses to get it past a filter."""
    out = []
    if len(word) >= 3:
        k = rnd.randrange(1, len(word) - 1)
        out.append(word[:k] + rnd.choice("*#%@$") + word[k + 1 :])  # х*й
        out.append(word[:k] + "*" * (len(word) - k))  # ху**
        out.append(word[:k] + rnd.choice(["...", "…", "?", "()", "[]"]) + word[k + 1 :])
    out.append(word.translate(_LOOKALIKE))  # all Latin look-alikes
    out.append("".join(c.translate(_LOOKALIKE) if rnd.random() < 0.4 else c for c in word))
    out.append(" ".join(word))  # х у й
    out.append(rnd.choice(".-_'") .join(word))  # х.у.й
    if len(word) >= 4:
        k = len(word) // 2
        out.append(word[:k] + " " + word[k:])  # дро чи
    out.append("".join(c * rnd.choice((1, 1, 2, 3, 5)) for c in word))  # бляяяя
    out.append(word.upper())
    out.append(word.capitalize())
    out.append(word.replace("е", "ё").replace("о", "0").replace("з", "3"))
    out.append(word + rnd.choice([",", ".", "!", "?!", ")))"]) + rnd.choice(["сразу", "ну"]))
    return out


def build_texts(quick: bool) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from bench.moderation import cold_comments, posts_of, read_dev, typical_posts

    rnd = random.Random(2024)
    texts: list[str] = []
    dev = DATA / "ru_detox_dev.tsv"
    if dev.exists():
        pos, neg = read_dev(dev)
        texts += pos + neg
    everyday = _lines(EVERYDAY)
    texts += everyday
    texts += cold_comments(1000 if quick else 5000)
    texts += cold_comments(500 if quick else 3000, abusive_share=0, seed=3)
    texts += cold_comments(500 if quick else 3000, abusive_share=1, seed=5)
    texts += posts_of(400, 100 if quick else 1000)
    texts += typical_posts(200 if quick else 2000, 100, 500)
    texts += typical_posts(20 if quick else 100, 3900, 4096)
    toxic = _lines(DATA / "ru_toxic_10k.txt")
    texts += toxic[:1000] if quick else toxic
    forms = _lines(DATA / "ru_rude_wordforms.txt")
    if quick:
        forms = rnd.sample(forms, min(len(forms), 5000))
    texts += forms
    words = [w for w in forms if " " not in w and len(w) >= 3]
    for w in rnd.sample(words, min(len(words), 300 if quick else 4000)):
        for d in _disguised(w, rnd):
            texts.append(d)
            if everyday:
                texts.append(f"{rnd.choice(everyday)} {d} {rnd.choice(everyday)}")
                texts.append(f"ты {d}, {rnd.choice(everyday).lower()}")
    for t in everyday[:300]:  # watched words and phrases inside everyday sentences
        texts.append(f"{t} Про вейп и сбор денег: дурдом, контрольная работа, учителя.")
    texts += ["π", "3.14здец", "пи3.14дец", "х у й", "х  у  й  н  я", "бл...", "ху**",
              "а б в г д е ё ж з", "", " ", "...", "кошмар,сразу", "пи.з.дец", "п?зда"]
    return list(dict.fromkeys(texts))


def _verdict_data(v) -> list:
    return [v.action.value, repr(v.score), sorted(c.value for c in v.categories),
            [[r.start, r.end, r.matched, r.normalized, r.rule, r.category.value, repr(r.score)]
             for r in v.reasons], repr(v.model_score)]


def judge(root: Path, texts_path: Path, out_path: Path) -> None:
    """Judge every text under every setting with the detector of ``root``."""
    sys.path.insert(0, str(root))
    import moderation
    from moderation import Detector, WatchAction, WatchedWord

    where = Path(moderation.__file__).resolve()
    if root.resolve() not in where.parents:
        raise SystemExit(f"imported {where}, not the checkout at {root}")
    texts = json.loads(texts_path.read_text(encoding="utf-8"))
    results: dict[str, list] = {}
    for name, kw in SETTINGS:
        kw = dict(kw)
        if "watched" in kw:
            kw["watched"] = [WatchedWord(p, WatchAction(a)) for p, a in kw["watched"]]
        det = Detector(**kw)
        cold = []
        for t in texts:
            det._cache.clear()
            cold.append(_verdict_data(det.check(t)))
        results[f"{name} cold"] = cold
        det._cache.clear()
        results[f"{name} warm"] = [_verdict_data(det.check(t)) for t in texts]
        if name == "default":
            results["titles"] = [_verdict_data(det.check(t, title=u))
                                 for t, u in zip(texts[1::7], texts[::7], strict=False)]
            results["mask"] = [det.mask(t, obscene=True) for t in texts[::5]]
    print(f"{root}: {where.parent.name} from {where.parent}, implementation "
          f"{getattr(moderation, 'IMPLEMENTATION', 'python')}", file=sys.stderr)
    out_path.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("reference", type=Path, help="the reference checkout's root directory")
    ap.add_argument("--quick", action="store_true", help="a smaller set of texts")
    ap.add_argument("--judge", type=Path, nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.judge:
        judge(args.reference, *args.judge)
        return 0
    texts = build_texts(args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        texts_path = Path(tmp) / "texts.json"
        texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        outs = []
        for root in (ROOT, args.reference):
            out = Path(tmp) / f"out{len(outs)}.json"
            subprocess.run([sys.executable, __file__, str(root), "--judge", str(texts_path),
                            str(out)], check=True, cwd=tmp)
            outs.append(json.loads(out.read_text(encoding="utf-8")))
    ours, ref = outs
    total = diffs = 0
    for key, want in ref.items():
        got = ours.get(key, [])
        texts_of = texts[1::7] if key == "titles" else texts[::5] if key == "mask" else texts
        bad = [k for k in range(len(want)) if k >= len(got) or got[k] != want[k]]
        total += len(want)
        diffs += len(bad)
        print(f"{key}: {len(want)} compared, {len(bad)} different")
        for k in bad[:5]:
            print(f"  {texts_of[k][:120]!r}\n    this: {got[k] if k < len(got) else None}"
                  f"\n    ref:  {want[k]}")
    print(f"{len(texts)} distinct texts; {total} verdicts compared, {diffs} different")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
