"""Which unseen words can possibly match the lexicon: a root search in one pass.

A clean word must not pay for the lexicon's big regular expressions. Every rule needs one
of a few hundred roots (``lexicon.ROOTS``); an Aho-Corasick automaton finds whether a word
holds any of them in a single scan in C. Only words that do (candidates) go on to the
full normalisation and the rule match. The automaton reads the word with a space on each
side, so a root may be pinned to a word's edge (``^ска$``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import product

try:  # pyahocorasick: the fast path; a combined regex does the same job without it
    import ahocorasick
except ImportError:  # pragma: no cover - the dependency is declared
    ahocorasick = None

_CLASS_RE = re.compile(r"\[([^\]]+)\]|(.)")


def expand(pattern: str) -> list[str]:
    """The literal strings a root pattern stands for: ``[ая]`` is one letter of a choice,
    a trailing ``?`` makes the previous letter optional, ``^``/``$`` become spaces."""
    choices: list[list[str]] = []
    for m in _CLASS_RE.finditer(pattern):
        if m.group(1) is not None:
            choices.append(list(m.group(1)))
        elif m.group(2) == "?":
            choices[-1] = [*choices[-1], ""]
        elif m.group(2) in "^$":
            choices.append([" "])
        else:
            choices.append([m.group(2)])
    return ["".join(p) for p in product(*choices)]


class RootFilter:
    """``candidate(word)``: does the (lower-case, ё kept or not) word hold a root?"""

    def __init__(self, roots: Iterable[str]) -> None:
        keys = sorted({k for r in roots for k in expand(r)})
        self.keys = tuple(keys)
        if ahocorasick is not None:
            automaton = ahocorasick.Automaton()
            for k in keys:
                automaton.add_word(k, k)
            automaton.make_automaton()
            self._iter = automaton.iter
            self.iter = automaton.iter  # (end index, key) of every root in a string
            self._re = None
        else:
            self._re = re.compile("|".join(map(re.escape, keys)))
            self.iter = lambda text: ((m.end() - 1, m.group()) for m in self._re.finditer(text))

    def candidate(self, word: str) -> bool:
        padded = f" {word} "
        if self._re is not None:
            return self._re.search(padded) is not None
        for _ in self._iter(padded):
            return True
        return False


class RootGate:
    """``rules_of(word)``: the indices of the rules whose roots the word holds, in order."""

    def __init__(self, roots_by_rule: dict[int, list[str]]) -> None:
        owners: dict[str, set[int]] = {}
        for rule, roots in roots_by_rule.items():
            for r in roots:
                for k in expand(r):
                    owners.setdefault(k, set()).add(rule)
        automaton = ahocorasick.Automaton()
        for k, rules in owners.items():
            automaton.add_word(k, frozenset(rules))
        automaton.make_automaton()
        self._iter = automaton.iter

    def rules_of(self, word: str) -> list[int]:
        found: set[int] = set()
        for _, rules in self._iter(f" {word} "):
            found |= rules
        return sorted(found)
