"""The detector: lexicon + statistical model + the school's watched words -> a Verdict."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from . import lexicon
from .lexicon import Category, Rule
from .model import ToxicityModel, default_model
from .normalize import (
    TOKEN_RE,
    fold,
    split_parts,
    word_forms,
)


class Action(str, Enum):
    ALLOW = "allow"
    HOLD = "hold"  # a moderator must decide
    REFUSE = "refuse"  # unambiguous obscenity, where the school refuses rather than holds


class WatchAction(str, Enum):
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


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: Rule
    form: str
    masked: bool  # read through masking symbols (ambiguous: never refused)


@dataclass(frozen=True, slots=True)
class _TokenInfo:
    words: tuple[str, ...]  # normalised words (for the model and watched words)
    hit: _Hit | None
    weight: float
    count: int
    single: str  # the letter, if the token is a single letter (for х у й runs)


_EMPTY_INFO = _TokenInfo((), None, 0.0, 0, "")
_CACHE_LIMIT = 200_000
_MAX_CACHED_TOKEN = 64
_RUN_WINDOW = 24
_MODEL_REASON_MIN = 0.6  # a word's own weight above which the model reason points at it


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


def _check_piece(piece: str) -> tuple[str, _Hit | None]:
    forms = word_forms(piece)
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
                hit = _best(hit, _Hit(Rule(f"маскировка:{canon}", Category.OBSCENE), latin,
                                      True))
        return main, hit
    for v in forms.variants:
        if "*" in v:
            canon = lexicon.match_masked(v)
            if canon is not None:
                hit = _best(hit, _Hit(Rule(f"маскировка:{canon}", Category.OBSCENE), v, True))
            continue
        r = lexicon.match_word(v)
        if r is not None:
            hit = _best(hit, _Hit(r, v, False))
            if r.strong:
                break
    return main, hit


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
    ) -> None:
        self.watched: tuple[WatchedWord, ...] = tuple(watched)
        self.refuse_obscene = refuse_obscene
        self.use_model = use_model
        self.model: ToxicityModel | None = (model or default_model()) if use_model else None
        if hold_threshold is None:
            hold_threshold = self.model.threshold if self.model is not None else 0.5
        if not 0.0 <= hold_threshold <= 1.0:
            raise ValueError("hold_threshold must be within 0..1")
        self.hold_threshold = hold_threshold
        self._watched_re, self._watched_groups = _compile_watched(self.watched)
        self._cache: dict[str, _TokenInfo] = {}

    def rebuild(
        self,
        *,
        watched: Iterable[WatchedWord] | None = None,
        hold_threshold: float | None = None,
        refuse_obscene: bool | None = None,
    ) -> Detector:
        """A new detector with some settings changed (the old one keeps working)."""
        d = Detector(
            watched=self.watched if watched is None else watched,
            hold_threshold=self.hold_threshold if hold_threshold is None else hold_threshold,
            refuse_obscene=self.refuse_obscene if refuse_obscene is None else refuse_obscene,
            use_model=self.use_model,
            model=self.model,
        )
        d._cache = self._cache  # token analysis does not depend on the settings
        return d

    # -- token analysis (cached) ------------------------------------------------------------
    def _analyze(self, raw: str) -> _TokenInfo:
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
                m, h = _check_piece(p)
                if m:
                    mains.append(m)
                hit = _best(hit, h)
            short = any(len(p) <= 2 for p in parts) or all(len(p) <= 4 for p in parts)
            if short:
                jm, jh = _check_piece("".join(parts))
                if jh is not None:
                    hit = _best(hit, jh)
                words = (jm,) if jm else ()
            else:
                words = tuple(mains)
        weight = 0.0
        count = 0
        model = self.model
        if model is not None:
            for w in words:
                dw, dn = model.word_contribution(w)
                weight += dw
                count += dn
        single = words[0] if len(words) == 1 and len(words[0]) == 1 and words[0].isalpha() \
            else ""
        return _TokenInfo(words, hit, weight, count, single)

    def _info(self, raw: str) -> _TokenInfo:
        info = self._cache.get(raw)
        if info is None:
            info = self._analyze(raw)
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
        reasons: list[Reason] = []
        model_score = 0.0
        total_w = 0.0
        total_n = 0
        for src, prefix in ((title, "title:"), (text, "")):
            if not src:
                continue
            w, n, found = self._scan(src, prefix)
            total_w += w
            total_n += n
            reasons.extend(found)
        if self.model is not None and total_n:
            model_score = self.model.probability(total_w, total_n)
        return self._decide(text, reasons, model_score)

    def _scan(self, text: str, prefix: str) -> tuple[float, int, list[Reason]]:
        reasons: list[Reason] = []
        info_of = self._info
        total_w = 0.0
        total_n = 0
        run: list[tuple[int, int, str]] = []
        toks: list[tuple[int, int, _TokenInfo]] = []
        for m in TOKEN_RE.finditer(text):
            raw = m.group()
            info = info_of(raw)
            total_w += info.weight
            total_n += info.count
            toks.append((m.start(), m.end(), info))
            if info.single:
                run.append((m.start(), m.end(), info.single))
                continue
            if len(run) >= 3:
                reasons.extend(self._run_reasons(text, run, prefix))
            run = []
            hit = info.hit
            if hit is not None:
                if not hit.rule.strong and not self._aimed(toks, text, m.start(), m.end()):
                    continue
                reasons.append(Reason(m.start(), m.end(), raw, hit.form,
                                      f"{prefix}{'masked' if hit.masked else 'lexicon'}:"
                                      f"{hit.rule.name}", hit.rule.category,
                                      0.9 if hit.masked else hit.rule.score))
        if len(run) >= 3:
            reasons.extend(self._run_reasons(text, run, prefix))
        if self._watched_re is not None and toks:
            reasons.extend(self._watched_reasons(text, toks, prefix))
        if self.model is not None and total_n:
            p = self.model.probability(total_w, total_n)
            if p >= self.hold_threshold and not any(
                    r.category is not Category.WATCHED for r in reasons):
                reasons.append(self._model_reason(text, toks, p, prefix))
        return total_w, total_n, reasons

    def _aimed(self, toks: list, text: str, start: int, end: int) -> bool:
        """Is the weak word at [start, end) aimed at a person (ты тупой, ваш сын — козёл)?"""
        before = [t[2] for t in toks[-1 - lexicon.WEAK_LIMIT : -1]]
        for info in before:
            if any(w in lexicon.ADDRESS_WORDS for w in info.words):
                return True
        m = TOKEN_RE.search(text, end)
        if m is not None and m.start() - end <= 3:
            nxt = self._info(m.group())
            if any(w in lexicon.ADDRESS_WORDS for w in nxt.words):
                return True
        return False

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
                s, e = window[m.start()][0], window[m.end() - 1][1]
                joined = m.group()
            out.append(Reason(s, e, text[s:e], joined, f"{prefix}spaced:{r.name}",
                              r.category, r.score))
            break
        return out

    def _watched_reasons(self, text: str, toks: list, prefix: str) -> list[Reason]:
        assert self._watched_re is not None
        words: list[str] = []
        starts: list[int] = []
        spans: list[tuple[int, int]] = []
        pos = 0
        for s, e, info in toks:
            for w in info.words:
                words.append(w)
                starts.append(pos)
                spans.append((s, e))
                pos += len(w) + 1
        seq = " ".join(words)
        out = []
        import bisect

        for m in self._watched_re.finditer(seq):
            ww = self._watched_groups[m.lastgroup or ""]
            i = bisect.bisect_right(starts, m.start()) - 1
            j = bisect.bisect_right(starts, m.end() - 1) - 1
            s, e = spans[i][0], spans[j][1]
            out.append(Reason(s, e, text[s:e], m.group(), f"{prefix}watched:{ww.action.value}:"
                              f"{ww.pattern}", Category.WATCHED, 1.0))
        return out

    def _model_reason(self, text: str, toks: list, p: float, prefix: str) -> Reason:
        best = None
        best_w = _MODEL_REASON_MIN
        for s, e, info in toks:
            if info.count and info.weight > best_w:
                best, best_w = (s, e, info), info.weight
        if best is None:
            return Reason(0, len(text), text[:200], "", f"{prefix}model", Category.RUDE, p)
        s, e, info = best
        return Reason(s, e, text[s:e], " ".join(info.words), f"{prefix}model", Category.RUDE, p)

    def _decide(self, text: str, reasons: list[Reason], model_score: float) -> Verdict:
        action = Action.ALLOW
        score = model_score
        cats: set[Category] = set()
        watched_rules = {f"watched:{w.action.value}:{w.pattern}": w for w in self.watched}
        for r in reasons:
            rule = r.rule.removeprefix("title:")
            if r.category is Category.WATCHED:
                ww = watched_rules.get(rule)
                cats.add(Category.WATCHED)
                if ww is None or ww.action is WatchAction.MASK:
                    continue
                score = max(score, r.score)
                if ww.action is WatchAction.REFUSE:
                    action = Action.REFUSE
                elif action is Action.ALLOW:
                    action = Action.HOLD
                continue
            cats.add(r.category)
            score = max(score, r.score)
            certain = rule.startswith(("lexicon:", "spaced:"))
            if (self.refuse_obscene and certain and r.category is Category.OBSCENE):
                action = Action.REFUSE
            elif action is Action.ALLOW:
                action = Action.HOLD
        if model_score >= self.hold_threshold and action is Action.ALLOW:
            action = Action.HOLD
            cats.add(Category.RUDE)
        reasons.sort(key=lambda r: (r.rule.startswith("title:"), r.start))
        return Verdict(action, round(min(1.0, score), 4), frozenset(cats), tuple(reasons),
                       round(model_score, 4))

    def mask(self, text: str, *, obscene: bool = False, char: str = "*") -> str:
        """The text with watched words set to *mask* masked (keeping each word's first
        letter); with ``obscene=True`` also every obscene, insulting or rude word found."""
        spans = []
        for r in self._scan(text, "")[2]:
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

    def build(self) -> Detector:
        return Detector(watched=self.watched, hold_threshold=self.hold_threshold,
                        refuse_obscene=self.refuse_obscene)

    def with_watched(self, watched: Iterable[WatchedWord]) -> DetectorSettings:
        return replace(self, watched=tuple(watched))
