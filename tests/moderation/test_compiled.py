"""The compiled detector gives the verdicts of the pure-Python one, to the last digit."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import moderation
from moderation.normalize import TOKEN_RE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = Path(os.environ.get("HUB_SHARED_DATA", ROOT.parent / "shared" / "data"))

needs_compiled = pytest.mark.skipif(moderation.IMPLEMENTATION != "compiled",
                                    reason="the compiled extensions are not built")

_LOOKALIKE = str.maketrans("аоерсхукмтвн", "aoepcxykmtbh")
_SEPARATORS = ".-_'’`~|/\\+:,^\"=·•‐‑–—?()[]{}…"
_ODD = ["\u0301", "\u00ad", "\u200b", "\ufeff", "\u0483", "\u20d0", "ß", "²", "😀", "ʘ"]

# Judged in a child process, once compiled and once in pure Python.
_JUDGE = """
import json, sys
from moderation import Detector, WatchAction, WatchedWord
texts = json.load(sys.stdin)
out = []
for det in (Detector(), Detector(refuse_obscene=True, rude_unless_aimed=True),
            Detector(watched=[WatchedWord("дур*"), WatchedWord("сбор денег", WatchAction.REFUSE)]),
            Detector(use_model=False)):
    for t in texts:
        det._cache.clear()  # every word unseen, as a fresh process sees it
        v = det.check(t)
        out.append([v.action.value, repr(v.score), repr(v.model_score), sorted(v.categories),
                    [[r.start, r.end, r.matched, r.normalized, r.rule, repr(r.score)]
                     for r in v.reasons]])
json.dump(out, sys.stdout, ensure_ascii=False)
"""


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [ln.strip() for ln in path.open(encoding="utf-8")
            if ln.strip() and not ln.startswith("#")]


def _varied_texts() -> list[str]:
    """Everyday messages, rude words and their disguises, digits, Latin, joined words."""
    rnd = random.Random(5)
    everyday = _lines(HERE / "data" / "everyday_school.txt")
    rude = ["хуй", "пизда", "блядь", "ебать", "сука", "мудак", "долбоёб", "жопа", "говно",
            "дебил", "тупой", "урод", "гнида", "петух", "козёл", "нахуй", "заебал", "пиздец"]
    forms = _lines(SHARED / "ru_rude_wordforms.txt")
    if forms:
        rude += rnd.sample([w for w in forms if " " not in w], 300)
    texts = list(everyday) + _lines(SHARED / "ru_toxic_10k.txt")[:500]
    for w in rude:
        k = rnd.randrange(1, max(2, len(w) - 1))
        for d in (w, w.upper(), w.capitalize(), w.translate(_LOOKALIKE), " ".join(w),
                  rnd.choice(_SEPARATORS).join(w), w[:k] + "*" + w[k + 1:], w[:k] + " " + w[k:],
                  "".join(c * rnd.choice((1, 2, 3)) for c in w), w.replace("е", "ё"),
                  w + "," + rnd.choice(everyday or ["сразу"]).split()[0], w + "123"):
            texts.append(f"ты {d}")
            if everyday:
                texts.append(f"{rnd.choice(everyday)} {d}. {rnd.choice(everyday)}")
    for t in everyday[:200]:  # everyday sentences with odd characters and digits in them
        chars = list(t)
        for _ in range(3):
            chars.insert(rnd.randrange(len(chars) + 1),
                         rnd.choice(_ODD + list(_SEPARATORS) + ["9Б", "5:02", "х", "ooo"]))
        texts.append("".join(chars))
    texts += ["", " ", "...", "π", "3.14здец", "х у й", "бл...", "ху**", "кошмар,сразу",
              "ёёё", "Ёжик", "ЁЛКА", "2024", "111", "ааа", "web money", "а" * 300]
    return texts


def _judge(texts: list[str], pure: bool) -> list:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HUB_MODERATION_PURE_PYTHON", None)
    if pure:
        env["HUB_MODERATION_PURE_PYTHON"] = "1"
    done = subprocess.run([sys.executable, "-c", _JUDGE], input=json.dumps(texts),
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(done.stdout)


@needs_compiled
def test_compiled_and_pure_python_verdicts_are_identical() -> None:
    texts = _varied_texts()
    compiled, pure = _judge(texts, pure=False), _judge(texts, pure=True)
    assert len(compiled) == len(pure) == 4 * len(texts)
    held = sum(v[0] != "allow" for v in pure)
    assert 0 < held < len(pure)  # the set holds clean and abusive texts alike
    differ = [(texts[k % len(texts)], c, p)
              for k, (c, p) in enumerate(zip(compiled, pure, strict=True)) if c != p]
    assert differ == []


@needs_compiled
def test_compiled_tokens_are_the_token_regex_tokens() -> None:
    from moderation._tokenize import token_bounds, tokens

    rnd = random.Random(9)
    alphabet = list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАЁЯabcXZ0189_ *#@$%!;&\n") \
        + list(_SEPARATORS) + _ODD
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
             for _ in range(20000)] + _varied_texts()
    for t in texts:
        found = list(TOKEN_RE.finditer(t))
        assert tokens(t) == [m.group() for m in found], t
        assert token_bounds(t) == ([m.start() for m in found], [m.end() for m in found]), t
