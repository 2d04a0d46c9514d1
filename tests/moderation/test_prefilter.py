"""The root prefilter must never hide a word from the lexicon: every plain word that a rule
matches has to hold one of the roots (otherwise the fast path would let it through)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from moderation import lexicon
from moderation.frequent import frequent_words
from moderation.normalize import collapse_all
from moderation.prefilter import RootFilter, expand
from moderation.reading import _may_match

HERE = Path(__file__).parent
SHARED = Path(os.environ.get("HUB_SHARED_DATA", HERE.parents[2] / "shared" / "data"))
_PLAIN = re.compile(r"[а-я]+")


def _flagged(word: str) -> bool:
    return any(lexicon.match_word(f) is not None for f in {word, collapse_all(word)})


def test_expand_reads_choices_edges_and_optional_letters() -> None:
    assert expand("п[иеё]зд") == ["пизд", "пезд", "пёзд"]
    assert expand("^ска$") == [" ска "]
    assert expand("выродо?к") == ["выродок", "выродк"]


def test_edge_roots_only_match_whole_words() -> None:
    f = RootFilter(["^ска$"])
    assert f.candidate("ска")
    assert not f.candidate("сказка")


@pytest.mark.parametrize("word", ["экскурсия", "собрание", "математика", "расписание",
                                  "родители", "каникулы", "класса", "какая", "после",
                                  "соседи", "кошмар", "поступить"])
def test_everyday_words_skip_the_lexicon(word: str) -> None:
    assert not _may_match(word)


def test_every_rule_word_in_the_vocabulary_is_a_candidate() -> None:
    path = SHARED / "ru_rude_wordforms.txt"
    words = {"хуй", "пиздец", "блядь", "сука", "мудак", "высер", "обсер", "суука", "дебил"}
    if path.exists():
        words |= {w for ln in path.open(encoding="utf-8") for w in ln.lower().split()}
    words |= {w for ln in (HERE / "data" / "everyday_school.txt").open(encoding="utf-8")
              for w in ln.lower().split()}
    words |= set(frequent_words()) | _literal_words()
    plain = {w.replace("ё", "е") for w in words if _PLAIN.fullmatch(w.replace("ё", "е"))}
    missed = sorted(w for w in plain if not _may_match(w) and _flagged(w))
    assert not missed, missed[:50]


def _literal_words() -> set[str]:
    """The whole words written out in the rules (убью, расстреляют, ...): each is a word
    its rule matches, so each must reach the rule."""
    return {w for _, pattern in lexicon._RULES for w in _LITERAL.findall(pattern)}


_LITERAL = re.compile(r"(?<=[|(:])[а-яё]{2,}(?=[|)]|$)")


def test_rules_tried_by_root_agree_with_the_whole_lexicon() -> None:
    """match_word tries only the rules whose roots a word holds; on the vocabulary it must
    give the same rule as the one big expression of every rule."""
    path = SHARED / "ru_rude_wordforms.txt"
    if not path.exists():
        pytest.skip("shared data not found")
    words = {w.replace("ё", "е") for ln in path.open(encoding="utf-8") for w in ln.lower().split()}
    words |= {w.replace("ё", "е") for w in (*frequent_words(), *_literal_words())}
    forms = {f for w in words if _PLAIN.fullmatch(w) for f in (w, collapse_all(w))}

    def whole(form: str) -> str | None:
        if len(form) < 2 or len(form) > 40 or lexicon.is_exception(form):
            return None
        m = lexicon._WORD_RE.fullmatch(form)
        return None if m is None else lexicon._WORD_RULES[m.lastgroup or ""].name

    differ = [(f, whole(f), getattr(lexicon.match_word(f), "name", None)) for f in forms
              if len(f) <= 40 and whole(f) != getattr(lexicon.match_word(f), "name", None)]
    assert not differ, differ[:20]
