"""The detector: lexicon + statistical model + the school's watched words -> a Verdict."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import accumulate, chain, compress
from operator import itemgetter, not_
from typing import NamedTuple, cast

from . import aim, lexicon
from .compiled import reader_for, token_bounds, tokens
from .frequent import table_for
from .lexicon import Category, Rule
from .model import ToxicityModel, default_model
from .normalize import (
    fold,
    split_parts,
)
from .reading import (
    _CYRILLIC_RE,
    _MASK_SEP_RE,
    _PI_RE,
    _PLAIN_CYR_RE,
    _PLAIN_LINES_RE,
    _PLAIN_RE,
    _RUN3_RE,
    _best,
    _capitalised,
    _check_piece,
    _filled_hit,
    _Hit,
    _may_match,
    _read_piece,
    _rooted,
    _short_code,
)


class Action(StrEnum):
    ALLOW = "allow"
    HOLD = "hold"  # a moderator must decide
    REFUSE = "refuse"  # unambiguous obscenity, where the school refuses rather than holds


class WatchAction(StrEnum):
    HOLD = "hold"
    REFUSE = "refuse"
    MASK = "mask"


@dataclass(frozen=True, slots=True)
class WatchedWord:
    """A school's watched word or phrase. ``*`` stands for any letters, ``?`` for one
    letter (``дур*``, ``контрольн? работа``). Matched against the normalised text, so
    disguised spellings are seen too."""

    pattern: str
    action: WatchAction = WatchAction.HOLD


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding: where it is in the original text and why it fired."""

    start: int
    end: int
    matched: str  # the original text[start:end]
    normalized: str  # the normalised form that the rule saw
    rule: str  # e.g. "lexicon:хуй", "masked:хуй", "watched:дур*", "model"
    category: Category
    score: float


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    score: float
    categories: frozenset[Category]
    reasons: tuple[Reason, ...]
    model_score: float = 0.0

    @property
    def allowed(self) -> bool:
        return self.action is Action.ALLOW


# Enum members that the full pass and the decision compare with on every flagged message:
# reading a member off its class goes through the enum metaclass's __getattr__ hook.
_INSULT, _RUDE, _THREAT, _WATCHED = (Category.INSULT, Category.RUDE, Category.THREAT,
                                     Category.WATCHED)
_ALLOW, _HOLD, _REFUSE = Action.ALLOW, Action.HOLD, Action.REFUSE
_WATCH_REFUSE, _WATCH_MASK = WatchAction.REFUSE, WatchAction.MASK
# Kinds of word a text may talk about (слово «дурак», призывы расстрелять) rather than use;
# an obscene word is held even then.
_DISCUSSABLE = (_INSULT, _RUDE, _THREAT)


class _TokenInfo(NamedTuple):
    """What the detector knows about one distinct token (a tuple: cheap to create, and
    millions of them are created for unseen words)."""

    words: tuple[str, ...]  # normalised words (for watched words and context)
    model_words: tuple[str, ...]  # the words the model reads
    hit: _Hit | None
    weight: float
    model_hits: int  # how many model features the words had ("count" would hide tuple.count)
    single: str  # the letter, if the token is a single letter (for х у й runs)
    flag: bool  # a lexicon hit: the message needs the full (slow) path
    code: str = "."  # "h" a lexicon hit, "s" a single letter, "." otherwise (for the fast path)


# A text read: its tokens, their analyses and codes (``_TokenInfo.code``), and its words
# cut off by masks. ``check`` reads a text once, for the fast path and the full pass.
_Read = tuple[list[str], list[_TokenInfo], str, list[re.Match[str]]]

_EMPTY_INFO = _TokenInfo((), (), None, 0.0, 0, "", False)
# A token's fields by position: itemgetter on a tuple is cheaper than attribute access.
_code_of = itemgetter(_TokenInfo._fields.index("code"))
_weight_of = itemgetter(_TokenInfo._fields.index("weight"))
_hits_of = itemgetter(_TokenInfo._fields.index("model_hits"))
_words_of = itemgetter(_TokenInfo._fields.index("words"))
_MARKED_RE = re.compile("h|s{3,}")
_HIT_RE = re.compile("h")
_third = itemgetter(2)
_findall = tokens
_CACHE_LIMIT = 200_000
_MAX_CACHED_TOKEN = 64
_RUN_WINDOW = 24
_MODEL_REASON_MIN = 0.6
MODEL_WINDOW = 64  # words per window the model reads in a long text
MODEL_MIN_WORDS = 4  # the model alone does not hold a message shorter than this


# A word cut at the end by dots or masks: бл..., ху**, пизд…
_TRAILING_MASK_RE = re.compile(
    r"(?<!\w)([бБ][лЛ]|[хХ][уУ][еЕ]?|[пП][иИ][зЗ][дД]|[еЕёЁ][бБ][аА])(?:\.{2,}|…|[*#%]+)(?!\w)")


# The last letter of such a word, and the dots or mask after it: where the slow search
# (a look-behind at every place) may begin.
_TRAILING_MASK_END_RE = re.compile(r"[лЛуУеЕдДаА](?:\.\.|[…*#%])")
_STEM_MAX = 4  # letters of the longest word _TRAILING_MASK_RE knows (пизд)


def _trailing_masks(text: str) -> list[re.Match[str]]:
    """Words cut off by dots or masks at the end (бл..., ху**); most texts have no dots
    in a row and no masks at all, and skip the search, and the others are searched from
    the first place where such a word could end."""
    if ".." in text or "…" in text or "*" in text or "#" in text or "%" in text:
        first_end = _TRAILING_MASK_END_RE.search(text)
        if first_end is not None:
            start = max(0, first_end.start() + 1 - _STEM_MAX)
            return list(_TRAILING_MASK_RE.finditer(text, start))
    return []
_TRAILING_CANON = {"бл": "бля", "ху": "хуй", "хуе": "хуево", "пизд": "пизда", "еба": "ебать",
                   "ёба": "ебать"}
# Fragments of a word split by spaces (дро чи, ху ли): a short token that is not one of the
# short everyday words ("f"), next to another short token ("f", "w" or a single letter "s").
_FRAGMENTS_RE = re.compile(r"[fws]*f[fws]*")
_FRAGMENT_MAX = 4  # tokens joined at most


def _model_words(raw: str, words: tuple[str, ...], hit: _Hit | None) -> tuple[str, ...]:
    """The words the statistical model reads. Left out: everyday look-alikes (рубля,
    сукно: the lexicon knows they are clean), words whose abuse depends on context (тупой
    угол: the context rules decide), and capitalised words, which in a school are mostly
    names of pupils, teachers and places, not abuse."""
    if hit is not None and not hit.rule.strong:
        return ()
    if hit is None:
        if _capitalised(raw):
            return tuple(w for w in words if w in lexicon.ADDRESS_WORDS)
        return tuple(w for w in words if not lexicon.is_exception(w))
    return words


class Detector:
    """Built once from configuration; cheap to rebuild when an administrator changes the
    watched words or thresholds (``rebuild``). Safe to share between tasks and threads:
    it holds no per-message state."""

    def __init__(
        self,
        *,
        watched: Iterable[WatchedWord] = (),
        hold_threshold: float | None = None,
        refuse_obscene: bool = False,
        use_model: bool = True,
        model: ToxicityModel | None = None,
        rude_unless_aimed: bool = False,
    ) -> None:
        self.watched: tuple[WatchedWord, ...] = tuple(watched)
        self.refuse_obscene = refuse_obscene
        # Policy 7.6 holds rude words (жопа, говно, хрен) by default; a school may let them
        # pass unless aimed at a person. Obscene words and insults are not affected.
        self.rude_unless_aimed = rude_unless_aimed
        self.use_model = use_model
        self.model: ToxicityModel | None = (model or default_model()) if use_model else None
        if hold_threshold is None:
            hold_threshold = self.model.threshold if self.model is not None else 0.5
        if not 0.0 <= hold_threshold <= 1.0:
            raise ValueError("hold_threshold must be within 0..1")
        self.hold_threshold = hold_threshold
        # A weak word (гнида, петух, посадить) not aimed at anyone holds when the model
        # score of the message reaches this (lower) threshold; never without a model.
        self.weak_threshold = self.model.weak_threshold if self.model is not None else 2.0
        self._watched_re, self._watched_groups = _compile_watched(self.watched)
        self._watched_rules = {f"watched:{w.action.value}:{w.pattern}": w for w in self.watched}
        self._cache: dict[str, _TokenInfo] = {}
        self._frequent: dict[str, _TokenInfo] = {}
        self._reader = reader_for(self.model, _TokenInfo)
        self._frequent = table_for(self.model, self._analyze_known, self._capitalised_info)

    def rebuild(
        self,
        *,
        watched: Iterable[WatchedWord] | None = None,
        hold_threshold: float | None = None,
        refuse_obscene: bool | None = None,
        rude_unless_aimed: bool | None = None,
    ) -> Detector:
        """A new detector with some settings changed (the old one keeps working)."""
        d = Detector(
            watched=self.watched if watched is None else watched,
            hold_threshold=self.hold_threshold if hold_threshold is None else hold_threshold,
            refuse_obscene=self.refuse_obscene if refuse_obscene is None else refuse_obscene,
            use_model=self.use_model,
            model=self.model,
            rude_unless_aimed=self.rude_unless_aimed if rude_unless_aimed is None
            else rude_unless_aimed,
        )
        d._cache = self._cache  # token analysis does not depend on the settings
        d._frequent = self._frequent
        return d

    # -- token analysis (cached) ------------------------------------------------------------
    def _analyze(self, raw: str) -> _TokenInfo:
        """One token's analysis. A plain word without a lexicon root (most words) takes the
        short way: no normalisation beyond lower case, no rule match, only its model weight."""
        low = raw.lower()
        if _RUN3_RE.search(low) is None:
            if _PLAIN_RE.fullmatch(low):
                main = low.replace("ё", "е")
                if _may_match(main):
                    return self._analyze_full(raw)
                return self._clean_info(raw, (main,))
            else:  # words joined by punctuation without a space: "кошмар,сразу"
                parts = split_parts(low)
                if len(parts) > 1 and all(map(_PLAIN_RE.fullmatch, parts)):
                    short = min(map(len, parts)) <= 2 or max(map(len, parts)) <= 4
                    if not short:
                        joined_info = self._joined_words(raw, parts)
                        if joined_info is not None:
                            return joined_info
                    elif _MASK_SEP_RE.search(low) is None:
                        mains = [p.replace("ё", "е") for p in parts]
                        joined = "".join(mains)
                        if not any(map(_may_match, mains)) and not _may_match(joined):
                            return self._clean_info(raw, (joined,))
        return self._analyze_full(raw)

    def _joined_words(self, raw: str, parts: list[str]) -> _TokenInfo | None:
        """Several long enough words joined by punctuation: each is looked up (or analysed)
        as a word of its own (the unseen ones read together, like a message's tokens), and
        the token is clean if every word is. None: a word holds a lexicon root, the full
        path decides."""
        infos = self._infos(parts)
        if any(i.hit is not None for i in infos):
            return None
        words = tuple(w for i in infos for w in i.words)
        if _capitalised(raw):
            return self._clean_info(raw, words)
        return _TokenInfo(words, tuple(w for i in infos for w in i.model_words), None,
                          sum(i.weight for i in infos), sum(i.model_hits for i in infos), "", False)

    def _analyze_known(self, raws: list[str]) -> list[_TokenInfo]:
        """The frequent forms' analyses: a short frequent word is a word, not a fragment of
        one, unless it could begin a lexicon root (ху, бл)."""
        found = self._analyze_many(raws)
        out = []
        for raw in raws:
            info = found[raw]
            if info.code == "f" and not any(map(_may_match, info.words)):
                info = info._replace(code="w")
            out.append(info)
        return out

    @staticmethod
    def _capitalised_info(raw: str, info: _TokenInfo) -> _TokenInfo | None:
        """A clean plain word's analysis turned into its capitalised form's (a capitalised
        clean word, mostly a name, gives the model nothing unless it is ты/вы...); None
        where the capitalised form has to be analysed itself."""
        word = info.words[0] if len(info.words) == 1 else ""
        if info.hit is not None or info.model_words != info.words or not word \
                or _PLAIN_CYR_RE.fullmatch(raw.lower()) is None:
            return None
        if word in lexicon.ADDRESS_WORDS:
            return info
        return tuple.__new__(_TokenInfo, (info.words, (), None, 0.0, 0, info.single, info.flag,
                                          info.code))  # _replace, without its Python layers

    def _clean_info(self, raw: str, words: tuple[str, ...]) -> _TokenInfo:
        """The analysis of a token whose words no lexicon rule can match."""
        if raw[:1].isupper() and (len(raw) < 2 or not raw[1].isupper()):  # _capitalised
            model_words = tuple(w for w in words if w in lexicon.ADDRESS_WORDS)
        else:
            model_words = words
        weight, count = 0.0, 0
        model = self.model
        if model is not None:
            if len(model_words) == 1:
                weight, count = model.word_contribution(model_words[0])
            else:
                for w in model_words:
                    dw, dn = model.word_contribution(w)
                    weight += dw
                    count += dn
        main = words[0]
        if len(words) == 1 and len(main) == 1 and main.isalpha():
            return _TokenInfo(words, model_words, None, weight, count, main, False, "s")
        return _TokenInfo(words, model_words, None, weight, count, "", False,
                          _short_code(raw, words))

    def _analyze_full(self, raw: str) -> _TokenInfo:
        info = self._analyze_parts(raw)
        if info.hit is None and _PI_RE.search(raw) is not None:  # π or 3.14 for "пи"
            pi = self._analyze_parts(_PI_RE.sub("пи", raw))
            if pi.hit is not None:
                return pi
        return info

    def _joins_words(self, parts: list[str]) -> bool:
        """Do the dots between these pieces stand between whole words (an ellipsis: Ох...а
        ведь правда, плохо...готовлюсь; initials: О.А.) rather than for hidden letters?"""
        if parts[0].lower() in lexicon.SHORT_WORDS or all(
                len(p) == 1 and p.isupper() for p in parts):
            return True
        frequent = self._frequent
        return any(len(p) >= 4 and (info := frequent.get(p.lower())) is not None
                   and info.hit is None for p in parts)

    def _analyze_parts(self, raw: str) -> _TokenInfo:
        parts = split_parts(raw)
        if not parts:
            return _EMPTY_INFO
        hit: _Hit | None = None
        if len(parts) == 1:
            main, hit = _check_piece(parts[0])
            words: tuple[str, ...] = (main,) if main else ()
        else:
            mains = []
            for p in parts:
                m, h = _read_piece(p)
                if m:
                    mains.append(m)
                hit = _best(hit, h)
            short = any(len(p) <= 2 for p in parts) or all(len(p) <= 4 for p in parts)
            if lexicon.innocent_compound(mains):
                hit = None
                words = tuple(mains)
            elif short:
                jm, jh = _read_piece("".join(parts))
                if jh is not None:
                    hit = _best(hit, jh)
                words = (jm,) if jm else ()
            else:
                words = tuple(mains)
            if hit is None and len(parts) <= 3 and _MASK_SEP_RE.search(raw) is not None \
                    and _CYRILLIC_RE.search(raw) is not None and not self._joins_words(parts):
                # Dots, ? or brackets standing for letters: пи...да, д.бил.
                masked = "*".join(fold(p) for p in parts)
                canon = lexicon.match_masked(masked)
                if canon is not None:
                    hit = _Hit(lexicon.masked_rule(canon), masked, True)
                elif ".." in raw or "…" in raw:  # п....здёныш; one dot is a missing space
                    hit = _filled_hit(masked)
        model_words = _model_words(raw, words, hit)
        weight = 0.0
        count = 0
        model = self.model
        if model is not None:
            for w in model_words:
                dw, dn = model.word_contribution(w)
                weight += dw
                count += dn
        single = words[0] if len(words) == 1 and len(words[0]) == 1 and words[0].isalpha() \
            else ""
        code = "h" if hit is not None else ("s" if single else _short_code(raw, words))
        return _TokenInfo(words, model_words, hit, weight, count, single, hit is not None, code)

    def _info(self, raw: str) -> _TokenInfo:
        info = self._cache.get(raw)
        if info is None:
            info = self._frequent.get(raw) or self._analyze(raw)
            if len(raw) <= _MAX_CACHED_TOKEN:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[raw] = info
        return info

    # -- checking -----------------------------------------------------------------------------
    def check(self, text: str, *, title: str = "") -> Verdict:
        """Judge a message (and its title, if any). Spans refer to ``text``; findings in
        the title get negative-free spans relative to the title and rule prefixed
        ``title:``."""
        read: _Read | None = None
        if not title and self._watched_re is None:
            read = raws, infos, codes, masks = self._read(text)
            if not masks:
                fast = self._fast(raws, infos, codes)
                if fast is not None:
                    return fast
        reasons: list[Reason] = []
        model_score = 0.0
        for src, prefix in ((title, "title:"), (text, "")):
            if not src:
                continue
            p, found = self._scan(src, prefix, read if src is text else None)
            model_score = max(model_score, p)
            reasons.extend(found)
        model_holds = any(r.rule.endswith("model") for r in reasons)
        return self._decide(text, reasons, model_score, model_holds)

    def _model_p(self, infos: list[_TokenInfo]) -> float:
        """The model's probability: for a long text, the highest over windows of
        ``MODEL_WINDOW`` words (half overlapping), so that a long clean text does not drift
        and one abusive paragraph is not diluted by pages of clean ones."""
        model = self.model
        if model is None or not infos:
            return 0.0
        if len(infos) <= MODEL_WINDOW:
            if self._reader is not None:  # the same sums, in C
                return model.probability(*self._reader.totals(infos))
            return model.probability(sum(map(_weight_of, infos)), sum(map(_hits_of, infos)))
        ws = [0.0, *accumulate(map(_weight_of, infos))]
        ns = [0, *accumulate(map(_hits_of, infos))]
        last = len(infos)
        best = 0.0
        step = MODEL_WINDOW // 2
        for i in range(0, max(1, last - step), step):
            j = min(last, i + MODEL_WINDOW)
            p = model.probability(ws[j] - ws[i], ns[j] - ns[i])
            if p > best:
                best = p
        return best

    def _infos(self, toks: list[str]) -> list[_TokenInfo]:
        """The analysis of each token: dictionary look-ups (the frequent forms, then the
        words this detector has seen), analysing only unseen tokens."""
        got = self._known(toks)
        if all(got):  # (a token's analysis is a non-empty tuple; faster than None in)
            return cast("list[_TokenInfo]", got)
        found = self._analyze_unseen(list(dict.fromkeys(compress(toks, map(not_, got)))))
        return cast("list[_TokenInfo]", list(map(found.get, toks, got)))

    def _known(self, toks: list[str]) -> list[_TokenInfo | None]:
        """Each token's analysis if it is a frequent form or was seen before, else None."""
        if self._reader is not None:
            return self._reader.known(toks, self._frequent, self._cache)  # the same, in C
        return list(map(self._cache.get, toks, map(self._frequent.get, toks)))

    def _analyze_unseen(self, raws: list[str]) -> dict[str, _TokenInfo]:
        """Analyse a message's unseen tokens together and remember them."""
        found = self._analyze_many(raws)
        cache = self._cache
        if len(cache) + len(found) >= _CACHE_LIMIT:
            cache.clear()
        cache.update(found)
        if max(map(len, found)) > _MAX_CACHED_TOKEN:
            for raw in found:
                if len(raw) > _MAX_CACHED_TOKEN:
                    del cache[raw]
        return found

    def _analyze_many(self, raws: list[str]) -> dict[str, _TokenInfo]:
        """Analyse distinct tokens together. Plain words (the usual case) are lower-cased
        and searched for roots in one pass over all of them, and the clean ones are built
        in bulk; other tokens are read one by one."""
        if self._reader is not None:
            return self._read_compiled(raws)
        found: dict[str, _TokenInfo] = {}
        lows = "\n".join(raws).lower()
        if _PLAIN_LINES_RE.fullmatch(lows) and _RUN3_RE.search(lows) is None:
            plain = raws
            mains = lows.replace("ё", "е").split("\n")
        else:
            plain, mains = [], []
            for raw, low in zip(raws, lows.split("\n"), strict=True):
                if _RUN3_RE.search(low) is None and _PLAIN_RE.fullmatch(low):
                    plain.append(raw)
                    mains.append(low.replace("ё", "е"))
                else:
                    found[raw] = self._analyze(raw)
        if plain:
            clean_raws: list[str] = []
            clean_mains: list[str] = []
            for raw, main, has_root in zip(plain, mains, _rooted(mains), strict=True):
                if has_root:
                    found[raw] = self._analyze_full(raw)
                else:
                    clean_raws.append(raw)
                    clean_mains.append(main)
            if clean_raws:
                found.update(zip(clean_raws, self._clean_infos(clean_raws, clean_mains),
                                 strict=True))
        return found

    def _read_compiled(self, raws: list[str]) -> dict[str, _TokenInfo]:
        """``_analyze_many`` with the plain words read by the compiled reader."""
        assert self._reader is not None
        found: dict[str, _TokenInfo] = {}
        for raw, info in zip(raws, self._reader.read(raws), strict=True):
            if info is None:  # not a plain word
                info = self._analyze(raw)
            elif info is False:  # a plain word holding a lexicon root
                info = self._analyze_full(raw)
            found[raw] = info
        return found

    def _clean_infos(self, raws: list[str], mains: list[str]) -> list[_TokenInfo]:
        """``_clean_info`` of many plain words (lower-case, ё read as е) at once."""
        model = self.model
        # A capitalised word (mostly a name) gives the model nothing unless it is ты/вы...
        read = [main if raw[:1].islower() or not _capitalised(raw)
                or main in lexicon.ADDRESS_WORDS else ""
                for raw, main in zip(raws, mains, strict=True)]
        if model is not None and any(read):
            weights, counts = model.contributions([m for m in read if m])
        else:
            weights, counts = [], []
        out = []
        k = 0
        new = tuple.__new__  # a NamedTuple's own __new__ is a Python function: slower
        for raw, main, m in zip(raws, mains, read, strict=True):
            words: tuple[str, ...] = (main,)
            model_words: tuple[str, ...]
            if m:
                model_words = words
                if model is not None:
                    weight, count = weights[k], counts[k]
                    k += 1
                else:
                    weight, count = 0.0, 0
            else:
                weight, count = 0.0, 0
                model_words = ()
            if len(main) > 3:
                single, code = "", "."
            elif len(main) == 1 and main.isalpha():
                single, code = main, "s"
            else:
                single, code = "", _short_code(raw, words)
            out.append(new(_TokenInfo, (words, model_words, None, weight, count, single, False,
                                        code)))
        return out

    def _fast(self, toks: list[str], infos: list[_TokenInfo], codes: str) -> Verdict | None:
        """The common case, a clean message, at C speed: None if it needs a closer look
        (a lexicon hit, or three single letters in a row: х у й). ``codes`` holds each
        token's code."""
        if "h" in codes or "sss" in codes or ("f" in codes and _has_fragments(codes, infos)):
            return None
        p = 0.0
        if self.model is not None:
            p = self._model_p(infos)
            if p >= self.hold_threshold and len(toks) >= MODEL_MIN_WORDS:
                return None
        return _allowed(round(p, 4))

    def _read(self, text: str) -> _Read:
        """The text's tokens with their analyses and codes, and its words cut off by masks."""
        raws = _findall(text)
        infos = self._infos(raws)
        if self._reader is not None:
            codes = self._reader.codes(infos)  # the same string, joined in C
        else:
            codes = "".join(map(_code_of, infos))
        return raws, infos, codes, _trailing_masks(text)

    def _scan(self, text: str, prefix: str, read: _Read | None = None,
              ) -> tuple[float, list[Reason]]:
        """The full pass. Token analysis is the cached, C-level part (findall + dict
        look-ups); the Python loop below visits only the tokens that need a decision
        (lexicon hits and single letters of spaced-out words). ``read``: the text already
        read by ``check``."""
        reasons: list[Reason] = []
        raws, infos, codes, masks = read or self._read(text)
        marked = _marked(codes)
        p = 0.0
        if self.model is not None and any(map(_hits_of, infos)):
            p = self._model_p(infos)
        model_holds = p >= self.hold_threshold and len(raws) >= MODEL_MIN_WORDS
        toks: list[tuple[int, int, _TokenInfo]] = []
        fragments = "f" in codes and _has_fragments(codes, infos)
        if marked or model_holds or fragments or self._watched_re is not None:
            starts, ends = token_bounds(text)  # the same tokens as raws, with their places
            toks = list(zip(starts, ends, infos, strict=True))
        run: list[tuple[int, int, str]] = []
        last = -2
        weak_p = p if self.model is not None else -1.0
        phrases = False
        spared: list[int] = []  # words let through as talked about or self-aimed
        msg = aim.Message(text, toks)
        for i in marked:
            s, e, info = toks[i]
            if info.single:
                if i != last + 1 and len(run) >= 3:
                    reasons.extend(self._run_reasons(text, run, prefix))
                if i != last + 1:
                    run = []
                run.append((s, e, info.single))
                last = i
                continue
            hit = info.hit
            if hit is None:
                continue
            innocent = lexicon.INNOCENT_AFTER.get(hit.form)
            if innocent and i > 0 and innocent.intersection(toks[i - 1][2].words):
                continue
            innocent = lexicon.INNOCENT_BEFORE.get(hit.form)
            if innocent and i + 1 < len(toks) and innocent.intersection(toks[i + 1][2].words):
                continue
            category = hit.rule.category
            if category in _DISCUSSABLE and not hit.masked and (
                    aim.discussed(msg, i)
                    or (category is _INSULT and aim.at_oneself(msg, i))):
                spared.append(i)
                continue  # talked about, or the writer about themself
            if not hit.rule.strong:
                phrases = True
                if hit.rule.phrase_only or not (
                        (hit.rule.model_ok and weak_p >= self.weak_threshold
                         and not _capitalised(raws[i]))
                        or (aim.threatened(msg, i, hit.form) if category is _THREAT
                            else aim.aimed(msg, i))
                        or self._paired(toks, i)
                        or (category is _INSULT and aim.vocative(msg, i))):
                    continue
            elif category is _RUDE and self.rude_unless_aimed \
                    and hit.rule.name not in lexicon.RUDE_AIMED_BY_NATURE \
                    and not aim.aimed(msg, i) and not aim.addresses_someone(msg):
                continue  # the school lets rude words pass unless aimed at someone
            reasons.append(Reason(s, e, raws[i], hit.form,
                                  f"{prefix}{'masked' if hit.masked else 'lexicon'}:"
                                  f"{hit.rule.name}", hit.rule.category,
                                  0.9 if hit.masked else hit.rule.score))
        if len(run) >= 3:
            reasons.extend(self._run_reasons(text, run, prefix))
        if fragments:
            reasons.extend(_fragment_reasons(text, toks, codes, prefix))
        for m in masks:
            rule = lexicon.masked_rule(_TRAILING_CANON[m.group(1).lower()])
            reasons.append(Reason(m.start(), m.end(), m.group(), m.group().lower(),
                                  f"{prefix}masked:{rule.name}", rule.category, 0.9))
        if phrases:
            reasons.extend(self._phrase_reasons(text, toks, prefix))
        if self._watched_re is not None and toks:
            reasons.extend(self._watched_reasons(text, toks, prefix))
        if model_holds and spared:  # the model must not hold for a word the rules spared
            rest = [info for k, (_, _, info) in enumerate(toks) if k not in spared]
            model_holds = self._model_p(rest) >= self.hold_threshold
        if model_holds and not any(r.category is not _WATCHED for r in reasons):
            reasons.append(self._model_reason(text, toks, p, prefix))
        return p, reasons

    @staticmethod
    def _paired(toks: list, i: int) -> bool:
        """Two insulting words side by side (тупой клоун, либерда вонючая) aim each other."""
        for j in (i - 1, i + 1):
            if 0 <= j < len(toks):
                h = toks[j][2].hit
                if h is not None and h.rule.category is _INSULT \
                        and not h.rule.phrase_only and j != i:
                    return toks[i][2].hit.rule.category is _INSULT
        return False

    def _phrase_reasons(self, text: str, toks: list, prefix: str) -> list[Reason]:
        """Threat phrases (руки оторвать, к стенке, на кол посадить) over normalised words."""
        seq = _word_sequence(toks)
        out = []
        places = None
        for rule, phrases in ((lexicon.THREAT_PHRASE_RULE, lexicon.THREAT_PHRASE_RE),
                              (lexicon.INSULT_PHRASE_RULE, lexicon.INSULT_PHRASE_RE)):
            for m in phrases.finditer(seq):
                places = places or _word_places(toks)
                s, e = places.span(m.start(), m.end())
                out.append(Reason(s, e, text[s:e], m.group(), f"{prefix}lexicon:{rule.name}",
                                  rule.category, rule.score))
        return out

    def _run_reasons(self, text: str, run: list[tuple[int, int, str]],
                     prefix: str) -> list[Reason]:
        out = []
        for i in range(0, len(run), _RUN_WINDOW // 2):
            window = run[i : i + _RUN_WINDOW]
            if len(window) < 3:
                break
            joined = "".join(c for _, _, c in window)
            r = lexicon.match_word(joined)
            if r is not None and r.strong:
                s, e = window[0][0], window[-1][1]
            else:
                m = lexicon.search_roots(joined)
                if m is None:
                    continue
                r = Rule("разрядка", Category.OBSCENE)
                end = m.end()
                for k in range(len(joined), m.end(), -1):  # take the whole word if it is one
                    if lexicon.match_word(joined[m.start() : k]) is not None:
                        end = k
                        break
                s, e = window[m.start()][0], window[end - 1][1]
                joined = joined[m.start() : end]
            out.append(Reason(s, e, text[s:e], joined, f"{prefix}spaced:{r.name}",
                              r.category, r.score))
            break
        return out

    def _watched_reasons(self, text: str, toks: list, prefix: str) -> list[Reason]:
        assert self._watched_re is not None
        seq = _word_sequence(toks)
        out = []
        places = None
        for m in self._watched_re.finditer(seq):
            ww = self._watched_groups[m.lastgroup or ""]
            places = places or _word_places(toks)
            s, e = places.span(m.start(), m.end())
            out.append(Reason(s, e, text[s:e], m.group(), f"{prefix}watched:{ww.action.value}:"
                              f"{ww.pattern}", _WATCHED, 1.0))
        return out

    def _model_reason(self, text: str, toks: list, p: float, prefix: str) -> Reason:
        best = None
        best_w = _MODEL_REASON_MIN
        for s, e, info in toks:
            if info.model_hits and info.weight > best_w:
                best, best_w = (s, e, info), info.weight
        if best is None:
            return Reason(0, len(text), text[:200], "", f"{prefix}model", _RUDE, p)
        s, e, info = best
        return Reason(s, e, text[s:e], " ".join(info.words), f"{prefix}model", _RUDE, p)

    def _decide(self, text: str, reasons: list[Reason], model_score: float,
                model_holds: bool) -> Verdict:
        action = _ALLOW
        score = model_score
        cats: set[Category] = set()
        for r in reasons:
            rule = r.rule.removeprefix("title:")
            if r.category is _WATCHED:
                ww = self._watched_rules.get(rule)
                cats.add(_WATCHED)
                if ww is None or ww.action is _WATCH_MASK:
                    continue
                score = max(score, r.score)
                if ww.action is _WATCH_REFUSE:
                    action = _REFUSE
                elif action is _ALLOW:
                    action = _HOLD
                continue
            cats.add(r.category)
            score = max(score, r.score)
            certain = rule.startswith(("lexicon:", "spaced:"))
            if (self.refuse_obscene and certain and r.category is Category.OBSCENE):
                action = _REFUSE
            elif action is _ALLOW:
                action = _HOLD
        if model_holds and action is _ALLOW:
            action = _HOLD
        reasons.sort(key=lambda r: (r.rule.startswith("title:"), r.start))
        return Verdict(action, round(min(1.0, score), 4), frozenset(cats), tuple(reasons),
                       round(model_score, 4))

    def mask(self, text: str, *, obscene: bool = False, char: str = "*") -> str:
        """The text with watched words set to *mask* masked (keeping each word's first
        letter); with ``obscene=True`` also every obscene, insulting or rude word found."""
        spans = []
        for r in self._scan(text, "")[1]:
            if r.category is Category.WATCHED:
                if r.rule.startswith(f"watched:{WatchAction.MASK.value}:"):
                    spans.append((r.start, r.end))
            elif obscene and r.rule != "model":
                spans.append((r.start, r.end))
        if not spans:
            return text
        out = list(text)
        for s, e in spans:
            first = True
            for i in range(s, e):
                if out[i].isalnum() or out[i] in "*#@$%":
                    if first:
                        first = False
                        continue
                    out[i] = char
        return "".join(out)


_ALLOWED: dict[float, Verdict] = {}


def _allowed(score: float) -> Verdict:
    """The verdict on a clean message of this (rounded) model score. Verdicts are
    immutable, so one per score is shared: building one costs more than checking most
    messages' words."""
    v = _ALLOWED.get(score)
    if v is None:
        v = _ALLOWED[score] = Verdict(Action.ALLOW, score, frozenset(), (), score)
    return v


def _marked(codes: str) -> list[int]:
    """The tokens the full pass visits: lexicon hits, and single letters in runs of three
    or more (х у й); shorter runs of single letters are ordinary words (я и ты)."""
    if "sss" not in codes:
        return [m.start() for m in _HIT_RE.finditer(codes)]
    out: list[int] = []
    for m in _MARKED_RE.finditer(codes):
        out.extend(range(m.start(), m.end()))
    return out


def _word_sequence(toks: list) -> str:
    """The message's normalised words joined by single spaces (phrases are matched there)."""
    return " ".join(chain.from_iterable(map(_words_of, map(_third, toks))))


class _WordPlaces:
    """Where each word of ``_word_sequence`` starts in it, and the span of its token in the
    original text: maps a match in the sequence back to the text."""

    __slots__ = ("spans", "starts")

    def __init__(self, toks: list) -> None:
        self.starts: list[int] = []
        self.spans: list[tuple[int, int]] = []
        pos = 0
        for s, e, info in toks:
            for w in info.words:
                self.starts.append(pos)
                self.spans.append((s, e))
                pos += len(w) + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, start) - 1
        j = bisect.bisect_right(self.starts, end - 1) - 1
        return self.spans[i][0], self.spans[j][1]


_word_places = _WordPlaces


def _has_fragments(codes: str, infos: list[_TokenInfo]) -> bool:
    """Short pieces side by side, or a short unknown piece before a short word."""
    for m in _FRAGMENTS_RE.finditer(codes):
        b = m.end()
        if b - m.start() >= 2:
            return True
        if b < len(infos) and len(infos[b].words) == 1 and len(infos[b].words[0]) <= 5:
            return True
    return False


def _fragment_reasons(text: str, toks: list, codes: str, prefix: str) -> list[Reason]:
    """A word split into short pieces (дро чи, ху ли, до лбо ёб): join neighbouring short
    tokens, and the word after them if it is short too, and look the result up."""
    out: list[Reason] = []
    for m in _FRAGMENTS_RE.finditer(codes):
        a, b = m.start(), m.end()
        if b < len(toks) and codes[b] == "." and len(toks[b][2].words) == 1 \
                and len(toks[b][2].words[0]) <= 5:
            b += 1  # the last piece may be longer: дро чить
        if b - a < 2:
            continue
        i = a
        while i < b - 1:
            found = None
            for j in range(min(b, i + _FRAGMENT_MAX), i + 1, -1):
                if "f" not in codes[i:j]:
                    continue
                joined = "".join(w for t in toks[i:j] for w in t[2].words)
                if not _may_match(joined):
                    continue
                r = lexicon.match_word(joined)
                if r is not None and r.strong and r.category is not Category.THREAT:
                    found = (j, joined, r)
                    break
            if found is None:
                i += 1
                continue
            j, joined, r = found
            s, e = toks[i][0], toks[j - 1][1]
            out.append(Reason(s, e, text[s:e], joined, f"{prefix}spaced:{r.name}",
                              r.category, r.score))
            i = j
    return out


_WILD_RE = re.compile(r"\\\*|\\\?")


def _compile_watched(
    watched: tuple[WatchedWord, ...],
) -> tuple[re.Pattern[str] | None, dict[str, WatchedWord]]:
    if not watched:
        return None, {}
    parts = []
    groups: dict[str, WatchedWord] = {}
    for i, ww in enumerate(watched):
        words = [w for w in re.split(r"\s+", ww.pattern.strip()) if w]
        if not words:
            raise ValueError(f"empty watched word: {ww.pattern!r}")
        pats = []
        for w in words:
            w = fold(w).replace("ё", "е")
            esc = re.escape(w)
            esc = _WILD_RE.sub(lambda m: r"\w*" if m.group() == r"\*" else r"\w", esc)
            pats.append(esc)
        g = f"w{i}"
        groups[g] = ww
        parts.append(f"(?P<{g}>{' '.join(pats)})")
    return re.compile(rf"(?<!\S)(?:{'|'.join(parts)})(?!\S)"), groups


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Plain settings a service can keep in its configuration and build a Detector from."""

    watched: tuple[WatchedWord, ...] = field(default_factory=tuple)
    hold_threshold: float | None = None
    refuse_obscene: bool = False
    rude_unless_aimed: bool = False

    def build(self) -> Detector:
        return Detector(watched=self.watched, hold_threshold=self.hold_threshold,
                        refuse_obscene=self.refuse_obscene,
                        rude_unless_aimed=self.rude_unless_aimed)

    def with_watched(self, watched: Iterable[WatchedWord]) -> DetectorSettings:
        return replace(self, watched=tuple(watched))
