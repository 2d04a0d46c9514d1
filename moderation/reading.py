"""Reading one token: its normalised forms, the lexicon rule it breaks, and the short cuts
that let most words skip the rules.

A plain word is lower-cased and searched for lexicon roots (one Aho-Corasick scan, see
``prefilter``); only a word holding a root is normalised in full and tried against the
rules whose roots it holds. Disguised spellings (masks, look-alikes, spellings as heard)
are read here too; what needs the neighbouring tokens (spaced-out letters, fragments,
phrases) is the detector's.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from itertools import product

from . import lexicon
from .lexicon import Rule
from .normalize import Forms, collapse_all, word_forms
from .prefilter import RootFilter


@dataclass(frozen=True, slots=True)
class _Hit:
    """A lexicon rule a token breaks, and the form it was read in."""

    rule: Rule
    form: str
    masked: bool  # read through masking symbols (ambiguous: never refused)


_ROOTS = RootFilter(lexicon.ROOTS)
_candidate = _ROOTS.candidate
# A token the fast path may take: plain lower-case Cyrillic letters (or plain digits), no
# run of three equal letters (those need the collapsing of the full normalisation).
_PLAIN_RE = re.compile(r"[а-яё]+|[0-9]+")
_RUN3_RE = re.compile(r"(.)\1\1")
_RUN2_RE = re.compile(r"(.)\1")
# Short tokens that may be the first or last piece of a root split by a space: the first
# or last three letters of a longer root (дро|чи), and the first two of the obscene ones
# (пи|зда, ху|ли, бл|ять).
_ROOT_KEYS = [k.strip() for k in _ROOTS.keys if len(k.strip()) >= 4]
_ROOT_EDGES = frozenset({k[:3] for k in _ROOT_KEYS} | {k[-3:] for k in _ROOT_KEYS}
                        | set("пи пе пё ху бл еб ёб му др су жо".split()))
_PLAIN_LINES_RE = re.compile(r"(?:[а-яё]+|[0-9]+)(?:\n(?:[а-яё]+|[0-9]+))*")


def _rooted(words: list[str]) -> list[bool]:
    """``_may_match`` for many words with one root search over all of them."""
    rooted = [False] * len(words)
    starts = []
    pos = 1
    for w in words:
        starts.append(pos)
        pos += len(w) + 2
    for end, _ in _ROOTS.iter(" " + "  ".join(words) + " "):
        rooted[bisect.bisect_right(starts, end) - 1] = True
    if _RUN2_RE.search("\n".join(words)) is not None:
        for k, w in enumerate(words):
            if not rooted[k] and _RUN2_RE.search(w) is not None:
                rooted[k] = _candidate(collapse_all(w))
    return rooted


def _may_match(form: str) -> bool:
    """Could any lexicon rule match this normalised word (or its collapsed spelling)?"""
    if _candidate(form):
        return True
    return _RUN2_RE.search(form) is not None and _candidate(collapse_all(form))


def _best(a: _Hit | None, b: _Hit | None) -> _Hit | None:
    if a is None:
        return b
    if b is None:
        return a
    if a.rule.strong != b.rule.strong:
        return a if a.rule.strong else b
    if a.masked != b.masked:
        return b if a.masked else a
    return a
_PLAIN_CYR_RE = re.compile(r"[а-яё]+")


def _forms(piece: str) -> Forms:
    """``word_forms``, with a short way for a plain Cyrillic word (most candidates)."""
    low = piece.lower()
    if _PLAIN_CYR_RE.fullmatch(low) is not None and _RUN3_RE.search(low) is None:
        main = low.replace("ё", "е")
        collapsed = collapse_all(main)
        return Forms(main, (main, collapsed) if collapsed != main else (main,), None, False)
    return word_forms(piece)


def _check_piece(piece: str) -> tuple[str, _Hit | None]:
    forms = _forms(piece)
    hit: _Hit | None = None
    main = forms.main
    if forms.latin is not None:
        latin = forms.latin
        r = lexicon.match_english(latin)
        if r is not None:
            hit = _Hit(r, latin, False)
        if not lexicon._LATIN_EXCEPTION_RE.fullmatch(latin):
            for v in forms.variants:
                if v == latin:
                    continue
                r = lexicon.match_latin_russian(v)
                if r is not None:
                    hit = _best(hit, _Hit(r, v, False))
                    main = v
                    break
        if "*" in latin or any(ch in latin for ch in "#%"):
            canon = lexicon.match_masked(latin.replace("#", "*").replace("%", "*"))
            if canon is not None:
                hit = _best(hit, _Hit(lexicon.masked_rule(canon), latin, True))
        return main, hit
    if "*" not in main and "@" not in piece and not any(map(_may_match, forms.variants)) \
            and not any("*" in v for v in forms.variants):
        return main, None  # no root in any reading: no rule can fire
    if lexicon.is_exception(main):
        return main, None
    for v in forms.variants:
        if v != main and lexicon.is_exception(v):
            continue  # небу is clean, but неебу read as небу is not
        if "*" in v:
            canon = lexicon.match_masked(v)
            if canon is not None:
                hit = _best(hit, _Hit(lexicon.masked_rule(canon), v, True))
            else:
                hit = _best(hit, _filled_hit(v))
            continue
        r = lexicon.match_word(v)
        if r is not None:
            hit = _best(hit, _Hit(r, v, False))
            if r.strong:
                break
    if hit is None:
        hit = _phonetic_hit(main)
    if hit is None and "@" in piece:
        hit = _at_as_mask(piece)  # бл@ть: @ hides a letter it does not look like
    if hit is not None and forms.mixed and not hit.rule.strong and not hit.rule.phrase_only:
        # Latin look-alikes mixed into the word (тyпой): a disguise shows it is meant.
        hit = _Hit(replace(hit.rule, strong=True), hit.form, hit.masked)
    return main, hit


# What a mask may hide when the masked word is not one of the common ones (ебн*лись): any
# letter for a single mask; for two masks, the letters most often hidden; or nothing.
_ANY_LETTER = (*"абвгдежзийклмнопрстуфхцчшщъыьэюя", "")
_COMMON_HIDDEN = (*"аоеиуыяюлн", "")
_MAX_FILLED_MASKS = 2
_MIN_VISIBLE = 3
_MAX_VISIBLE = 10  # longer: words joined by an ellipsis (плохо...готовлюсь), not one word


def _filled_hit(masked: str) -> _Hit | None:
    """A masked word read with each mask as one letter or none (ебн*лись -> ебнулись,
    охуе**ть -> охуеть): the first reading that breaks a strong rule, else one that breaks
    a weak rule (к*зел: aimed at no one, it stays clean). An everyday reading proves
    nothing: a mask hides a word the writer would not write."""
    pieces = masked.split("*")
    masks = len(pieces) - 1
    if not 1 <= masks <= _MAX_FILLED_MASKS \
            or not _MIN_VISIBLE <= len(masked) - masks <= _MAX_VISIBLE:
        return None
    weak: _Hit | None = None
    for fill in product(_ANY_LETTER if masks == 1 else _COMMON_HIDDEN, repeat=masks):
        word = pieces[0] + "".join(f + p for f, p in zip(fill, pieces[1:], strict=True))
        if not _may_match(word):
            continue
        rule = lexicon.match_word(word)
        if rule is None:
            continue
        hit = _Hit(replace(lexicon.masked_rule(word), strong=rule.strong), masked, True)
        if rule.strong:
            return hit
        weak = weak or hit
    return weak


def _at_as_mask(piece: str) -> _Hit | None:
    """A Cyrillic word whose @ is read as a mask, when reading it as а or о found nothing."""
    forms = word_forms(piece.replace("@", "*"))
    return next((h for v in forms.variants if "*" in v
                 if (h := _filled_hit(v)) is not None), None)


_KU_RE = re.compile(r"^(на|ни|по)ку(?=[йя])")
_PHONETIC_SAFE_RE = re.compile(
    r"(?:на|по|ни|до|за|от|у|вы|съ|раз)?(?:ху[йяеюи]|пизд|пзд|[её]ба[нтл]|[её]бн|бляд|блят)\w*"
    r"|\w*пизд\w*"
)


def _phonetic(form: str) -> str:
    """Spelling as heard: йо for ё, с/з and т/д before д, и for е, к for х (писдец,
    йобаный, ибанутый, никуя)."""
    f = form.replace("йо", "е").replace("сд", "зд").replace("зт", "зд")
    if f.startswith(("ибан", "ибат", "ибал")):
        f = "е" + f[1:]
    return _KU_RE.sub(r"\1ху", f)


def _phonetic_hit(main: str) -> _Hit | None:
    """A phonetic spelling counts only against the unambiguous roots."""
    ph = _phonetic(main)
    if ph == main or _PHONETIC_SAFE_RE.fullmatch(ph) is None:
        return None
    r = lexicon.match_word(ph)
    return _Hit(r, ph, False) if r is not None and r.strong else None
_PI_RE = re.compile(r"π|3[.,]14")
_CYRILLIC_RE = re.compile(r"[а-яёА-ЯЁ]")
_MASK_SEP_RE = re.compile(r"[.?…()\[\]]")


def _short_code(raw: str, words: tuple[str, ...]) -> str:
    """"f" a short token that may be a piece of a word split by spaces (it holds a root,
    or ends with the start of one, or starts with the end of one: дро|чи, ху|ли), "w" any
    other short word (ОГЭ, 9Б, сна), "." a longer token."""
    if len(words) != 1 or not 2 <= len(words[0]) <= 3:
        return "."
    w = words[0]
    if not raw.isalpha() or w in lexicon.SHORT_WORDS:
        return "w"
    if w in _ROOT_EDGES or _may_match(w):
        return "f"
    return "w"


def _capitalised(raw: str) -> bool:
    """Capitalised, not all caps: in a school mostly a name (Дауна in синдром Дауна)."""
    return raw[:1].isupper() and (len(raw) < 2 or not raw[1].isupper())


def _read_piece(piece: str) -> tuple[str, _Hit | None]:
    """``_check_piece`` of one piece of a token, with the short way a plain word takes: a
    plain Cyrillic piece holding no lexicon root is its lower-case form, and clean (most
    pieces of words joined by punctuation: тебя((я, дома.И)."""
    low = piece.lower()
    if _PLAIN_CYR_RE.fullmatch(low) is not None and _RUN3_RE.search(low) is None:
        main = low.replace("ё", "е")
        if not _may_match(main):
            return main, None
    return _check_piece(piece)
