"""Text normalisation for the detector: tokens with their original spans, de-disguised.

The detector never rewrites the whole text character by character (too slow for the
volume a forum sees). Instead the text is cut into *tokens* with one compiled regex, and
each distinct token is normalised once (results are cached by the caller). A token keeps
its span in the original text, so every finding maps back to the exact characters the
author typed: that is the offset map.

A token is a run of word characters, digits, masking symbols (``*``, ``#``, ``@``, ...),
zero-width and combining characters, possibly joined by *word-internal* separators
(``х.у.й``, ``х-у-й``, ``х_у_й``, ``пиз.дец``). Letters spaced out with blanks (``х у й``)
are separate tokens; the detector joins runs of single letters itself.

Normalising a token:

* Unicode compatibility folding (full-width and mathematical letters), case folding,
  dropping zero-width characters, soft hyphens and combining marks (stress marks,
  diacritics) while keeping й and ё intact, then ё -> е;
* homoglyphs: Latin letters and digits that look like Cyrillic ones (``a e o p c x y k m t
  h b u n 3 0 6 4 9 @``) and look-alikes from Greek and other scripts become Cyrillic when
  the word is written (mostly) in Cyrillic;
* transliteration: a word written only in Latin letters is also read as Russian
  transliteration (``blyat``, ``pizdec``, ``nahuy``, ``suka``) and as a Latin homoglyph
  spelling (``cyka``);
* word-internal separators are removed, masking symbols become ``*`` wildcards;
* repeated letters: runs of three or more collapse to one (``бляяяя`` -> ``бля``); the
  lexicon also tries the fully collapsed form (``суука`` -> ``сука``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from operator import itemgetter

# Characters that may occur inside a token.
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_INVISIBLE = "\u00ad\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff"
MASK_CHARS = "*#@$%"
_WORDCH = rf"[\w{_MARKS}{_INVISIBLE}*#@$%]"
# Separators allowed *inside* a token, between word characters: х.у.й, х-у-й, пиз'дец.
# Question marks, brackets and ellipses inside a word are masks or separators too
# (п?зда, бл[я], пи…да).
_INNER_SEP = r"[.\-_'’`~|/\\+:,^\"=·•‐‑–—?()\[\]{}…]"
TOKEN_RE = re.compile(rf"{_WORDCH}+(?:{_INNER_SEP}{{1,5}}{_WORDCH}+)*")
_SEP_SPLIT_RE = re.compile(rf"{_INNER_SEP}+")

_DROP = {ord(c): None for c in "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f"
         "\u2060\u2061\u2062\u2063\u2064\ufeff"}
_CYR_RE = re.compile(r"[а-яё]")
_LAT_RE = re.compile(r"[a-z]")
_PLAIN_RE = re.compile(r"[а-яёa-z0-9*#@$%]*")
_ALPHA_RE = re.compile(r"[^\W\d_]")

# Latin letters and digits that look like Cyrillic ones (lower case after folding).
_HOMOGLYPH = str.maketrans({
    "a": "а", "b": "в", "c": "с", "d": "д", "e": "е", "g": "д", "h": "н", "i": "и",
    "k": "к", "l": "л", "m": "м", "n": "п", "o": "о", "p": "р", "r": "г", "t": "т",
    "u": "и", "x": "х", "y": "у", "w": "ш", "z": "з", "f": "ф", "v": "в", "s": "с",
    "j": "й", "q": "я",
    "3": "з", "0": "о", "6": "б", "4": "ч", "9": "я", "1": "л", "8": "в", "@": "а",
    "$": "с",
})
# Look-alikes from other scripts (Greek, Ukrainian/Belarusian Cyrillic, Armenian, symbols).
_FOREIGN = str.maketrans({
    "α": "а", "β": "в", "γ": "у", "δ": "д", "ε": "е", "η": "п", "ι": "и", "κ": "к",
    "μ": "м", "ν": "v", "ο": "о", "π": "п", "ρ": "р", "σ": "о", "τ": "т", "υ": "у",
    "φ": "ф", "χ": "х", "ψ": "ф", "ω": "ш", "λ": "л", "ζ": "з", "ξ": "з", "θ": "о",
    "ς": "с", "і": "и", "ї": "и", "є": "е", "ґ": "г", "ў": "у", "ј": "й", "ѕ": "с",
    "һ": "н", "ԁ": "д", "ӏ": "л", "ɑ": "а", "ɡ": "д", "ı": "и", "ȿ": "с",
    "օ": "о", "ս": "и", "հ": "н", "х": "х", "ք": "ф", "ß": "в", "þ": "р",
    "ø": "о", "æ": "а", "œ": "о", "ð": "д", "ł": "л", "ђ": "д", "ћ": "н", "џ": "ц",
    "ӓ": "а", "ӧ": "о", "ӱ": "у", "ӹ": "ы", "ӵ": "ч", "ҳ": "х", "қ": "к", "ң": "н",
    "ғ": "г", "ұ": "у", "ү": "у", "ә": "а", "ө": "о", "ё": "е",
})
# Leetspeak for English words.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s",
                       "5": "s", "7": "t", "!": "i", "|": "l"})

_TRANSLIT_MULTI = (
    ("shch", "щ"), ("sch", "щ"), ("tsh", "ч"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"),
    ("kh", "х"), ("ts", "ц"), ("tz", "ц"), ("ya", "я"), ("yu", "ю"), ("yo", "ё"), ("ye", "е"),
    ("ja", "я"), ("ju", "ю"), ("jo", "ё"), ("je", "е"), ("ia", "я"), ("iu", "ю"), ("ck", "к"),
    ("ph", "ф"), ("x", "кс"),
)
_TRANSLIT_MULTI_RE = re.compile("|".join(re.escape(k) for k, _ in _TRANSLIT_MULTI))
_TRANSLIT_MULTI_MAP = dict(_TRANSLIT_MULTI)
_TRANSLIT_SINGLE = str.maketrans({
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и",
    "j": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р",
    "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х", "c": "ц", "y": "ы", "w": "в",
    "q": "к", "'": "ь", "`": "ь", "3": "з", "0": "о", "6": "б", "4": "ч", "9": "я",
    "@": "а",
})
_Y_AFTER_VOWEL_RE = re.compile(r"(?<=[аеиоуыэюя])ы")

_RUN3_RE = re.compile(r"(.)\1{2,}")
_RUN2_RE = re.compile(r"(.)\1+")
_MASK_RUN_RE = re.compile(r"[*#@$%]+")
# A match's first group, as a replacement: a template such as r"\1" costs a call into the
# re module's Python code on every sub().
_first_group = itemgetter(1)


def fold(raw: str) -> str:
    """Case-fold and strip invisible and combining characters, keeping й and ё."""
    s = raw.lower()
    if _PLAIN_RE.fullmatch(s):
        return s.replace("ё", "е")
    s = s.translate(_DROP)
    # Keep й/ё through decomposition: protect them, decompose, drop marks, restore.
    s = s.replace("й", "\ue001").replace("ё", "\ue002")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = unicodedata.normalize("NFC", s).lower()
    s = s.replace("\ue001", "й").replace("\ue002", "е")
    # A decomposed и + breve that survived (NFKD of a pre-composed й was protected above).
    return s.translate(_FOREIGN)


def translit(latin: str) -> str:
    """Read a Latin-script word as Russian transliteration (blyat -> блят)."""
    s = _TRANSLIT_MULTI_RE.sub(lambda m: _TRANSLIT_MULTI_MAP[m.group(0)], latin)
    s = s.translate(_TRANSLIT_SINGLE)
    # "y" after a vowel is й (nahuy -> нахуй), otherwise ы.
    return _Y_AFTER_VOWEL_RE.sub("й", s)


def collapse3(s: str) -> str:
    """Collapse runs of three or more equal characters to one."""
    return _RUN3_RE.sub(_first_group, s) if len(s) > 2 else s


def collapse_all(s: str) -> str:
    """Collapse every run of equal characters to one."""
    return _RUN2_RE.sub(_first_group, s)


def split_parts(raw: str) -> list[str]:
    """The pieces of a token between word-internal separators."""
    return [p for p in _SEP_SPLIT_RE.split(raw) if p]


@dataclass(frozen=True, slots=True)
class Forms:
    """The readings of one token (or one piece of it) that the lexicon checks.

    ``main`` is the canonical normalised form (what reasons show and the model reads);
    ``variants`` are further readings (homoglyph and transliteration readings, collapsed
    repeats); ``latin`` is the English/leetspeak reading of a Latin word, if any;
    ``masked`` is true when masking symbols remain inside the word (``х*й``).
    """

    main: str
    variants: tuple[str, ...]
    latin: str | None
    masked: bool
    mixed: bool = False  # Latin look-alikes mixed into a Cyrillic word: a disguise


def word_forms(piece: str) -> Forms:
    """Normalise one separator-free piece of a token into its readings."""
    s = fold(piece)
    stripped = s.strip("*#$%!")
    if stripped and s[:1] in "*#%" and s[-1:] not in "*#$%!" and len(stripped) >= 2:
        stripped = "*" + stripped  # a mask in first position (*уй), not emphasis (*так*)
    if stripped:
        s = stripped
    has_cyr = _CYR_RE.search(s) is not None
    has_lat = _LAT_RE.search(s) is not None
    variants: list[str] = []
    latin: str | None = None
    if has_cyr or not has_lat:
        masked_in = _mask_interior(s)
        main = masked_in.translate(_HOMOGLYPH) if (has_lat or _has_lookalike_digit(s)) \
            else masked_in
        if has_lat:
            alt = _translit_mixed(masked_in)
            if alt != main:
                variants.append(alt)
        if "@" in s:  # @ stands for о as often as for а (п@шел, д@лбоеб)
            variants.append(masked_in.replace("@", "о").translate(_HOMOGLYPH))
    else:
        latin = collapse3(s.translate(_LEET))
        main = latin
        tr = translit(s)
        hg = s.translate(_HOMOGLYPH)
        variants.extend((tr, hg))
    masked = "*" in main or ("*" in "".join(variants))
    main = collapse3(main)
    out: list[str] = []
    for v in (main, *variants):
        c3 = collapse3(v)
        for f in (c3, collapse_all(c3)):
            if f and f not in out:
                out.append(f)
    return Forms(main=main, variants=tuple(out), latin=latin, masked=masked,
                 mixed=has_cyr and has_lat)


_INTERIOR_MASK_RE = re.compile(r"(?<=[^\W_])[*#@$%]+(?=[^\W_])|^\*+(?=[^\W_])")
_HARD_MASK_RE = re.compile(r"[*#%]")


def _mask_interior(s: str) -> str:
    """Interior masking symbols become one ``*`` each run. ``@`` and ``$`` alone are read
    as the letters they resemble (б@бка), but count as masks next to ``*#%`` (б@#ть)."""
    if _HARD_MASK_RE.search(s) is None:
        return s
    return _INTERIOR_MASK_RE.sub("*", s)


def _has_lookalike_digit(s: str) -> bool:
    return any(ch in "30649@$1" for ch in s) and _ALPHA_RE.search(s) is not None


def _translit_mixed(s: str) -> str:
    """Mixed Cyrillic/Latin word: read the Latin letters as transliteration."""
    return "".join(translit(ch) if "a" <= ch <= "z" else ch for ch in s).translate(_HOMOGLYPH)


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    raw: str


def tokenize(text: str) -> list[Token]:
    """Cut a text into tokens with their spans in the original text."""
    return [Token(m.start(), m.end(), m.group(0)) for m in TOKEN_RE.finditer(text)]


@dataclass(frozen=True, slots=True)
class Normalized:
    """A whole text normalised: the normalised words joined by spaces, and for each
    word its span in the original text (the offset map)."""

    text: str
    starts: tuple[int, ...]  # start of each word in ``text``
    spans: tuple[tuple[int, int], ...]  # span of each word in the original text

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text back to a span of the original text."""
        import bisect

        if not self.spans:
            return (0, 0)
        i = max(0, bisect.bisect_right(self.starts, start) - 1)
        j = max(i, bisect.bisect_right(self.starts, max(start, end - 1)) - 1)
        return (self.spans[i][0], self.spans[j][1])


def normalize(text: str) -> Normalized:
    """Normalise a text (for inspection and for watched-word phrases)."""
    words: list[str] = []
    starts: list[int] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for tok in tokenize(text):
        parts = split_parts(tok.raw)
        form = "".join(word_forms(p).main for p in parts) if parts else ""
        if not form:
            continue
        starts.append(pos)
        spans.append((tok.start, tok.end))
        words.append(form)
        pos += len(form) + 1
    return Normalized(" ".join(words), tuple(starts), tuple(spans))
