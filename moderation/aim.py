"""At whom a word is aimed: a person (ты тупой, вы все тут тупые, клоун тут ты, Петров —
клоун), the writer (я дурак), or nobody because the word is being talked about (слово
«дурак», он обозвал меня дураком).

The detector calls these for words whose abuse depends on it. Tokens are the detector's
``(start, end, info)`` triples; ``info.words`` are the token's normalised words."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from . import lexicon
from .lexicon import Category

Tok = tuple[int, int, Any]


class Message:
    """A message as the aim rules read it: its text, its tokens, and (computed once) the
    set of all its words."""

    __slots__ = ("_words", "text", "toks")

    def __init__(self, text: str, toks: Sequence[Tok]) -> None:
        self.text = text
        self.toks = toks
        self._words: frozenset[str] | None = None

    @property
    def words(self) -> frozenset[str]:
        if self._words is None:
            self._words = frozenset(chain.from_iterable(map(_words, self.toks)))
        return self._words

# Words that may stand between an insult and the person it is aimed at (вы все тут тупые,
# ты же просто клоун, клоун тут ты).
FILLERS = frozenset(
    "все всё тут здесь там просто такой такая такое такие таких же и ну совсем реально "
    "вообще полный полная полное полные настоящий настоящая настоящие самый самая самые "
    "еще ещё уже очень конкретно типичный типичная типичные это эта этот натуральный "
    "натуральная обычный обычная был была были будешь будете есть всего лишь ведь "
    "какой какая какие опять снова редкий редкая редкостный редкостная настолько так "
    "слишком абсолютно полностью невероятно жутко ужасно крайне как что чо че".split()
)
# Between an insult and a later address only these stand (клоун тут ты, дурак же ты).
FILLERS_AFTER = frozenset("тут здесь же ведь и там это".split())
# Commands: a message that gives one speaks to someone (клоун, иди отсюда).
IMPERATIVES = frozenset(
    "иди идите пошел пошла пошли вали валите слушай слушайте слышь смотри смотрите хватит "
    "уймись уймитесь проваливай проваливайте молчи молчите замолчи замолчите прекрати "
    "прекратите перестань перестаньте кончай убирайся убирайтесь катись отстань отстаньте "
    "отвянь отвали отвалите заткнись заткнитесь успокойся успокойтесь".split()
)
SELF = frozenset("я меня мне мной себя себе собой мы нас".split())  # not сам: "сам дурак"
# After the word, only these make it the writer's own (нищеброд я, дурак же я), and себя
# right after it (подлецом себя чувствую); себе there is anyone's (такое только хамы могут
# себе позволить), and so is a later себя (эта сука решила себя взорвать).
SELF_AFTER = frozenset("я мы".split())
# Verbs of naming, and calls for something (призывы расстрелять): the word after them is
# reported or discussed, not thrown at anyone.
NAMING = frozenset(
    "назвал назвала назвали назовут обозвал обозвала обозвали обзывает обзывают обзывал "
    "обзывала обзывали обзывать обзывайте обзываться называет называют называть называйте "
    "называли называл называла называешь называете обзываешь обзываете дразнят дразнил "
    "дразнила дразнили призыв призывы призывами призывов призывом".split()
)
# Words that show a text talks about words (the school's rules, a complaint).
META = frozenset(
    "слово слова словом словами словечко мат мата матом маты ругательство ругательства "
    "ругательств выражение выражения выражений писать пишут говорить говорят употреблять "
    "нельзя запрещено запрещается запрещены запрещен запрещена правила правило например "
    "оскорбление оскорбления оскорблений угроза угрозы угроз лексика лексику".split()
)
_QUOTES_OPEN = "«\"„“'"
_QUOTES_CLOSE = "»\"“”'"
_QUOTES_OPEN_SET = frozenset(_QUOTES_OPEN)
_QUOTES_CLOSE_SET = frozenset(_QUOTES_CLOSE)
_LOOK_BACK = 4
_LOOK_AHEAD = 3


def _words(tok: Tok) -> tuple[str, ...]:
    return tok[2].words


def aimed(msg: Message, i: int) -> bool:
    """Is the word at token *i* aimed at a person? Looks back and ahead over filler words
    for ты/вы/он..., a word for people (учитель, люди), or a name with a dash (Петров —)."""
    text, toks = msg.text, msg.toks
    aim = lexicon.ADDRESS_WORDS
    people = lexicon.PERSON_WORDS
    for k in range(max(0, i - lexicon.WEAK_LIMIT), i):  # ты тупой, ты настолько туп
        ws = toks[k][2].words
        if not aim.isdisjoint(ws) or (k == i - 1 and not people.isdisjoint(ws)):
            return True
    for k in range(i - 1, max(-1, i - 1 - _LOOK_BACK), -1):  # вы все тут тупые
        ws = toks[k][2].words
        if not aim.isdisjoint(ws) or not people.isdisjoint(ws) or _named(text, toks, k, i):
            return True
        if not FILLERS.issuperset(ws):
            break
    for k in range(i + 1, min(len(toks), i + 1 + _LOOK_AHEAD)):  # клоун тут ты
        ws = toks[k][2].words
        if not aim.isdisjoint(ws):
            return True
        if k == i + 1 and toks[k][0] - toks[i][1] <= 3 and not people.isdisjoint(ws):
            return True
        if not FILLERS_AFTER.issuperset(ws):
            break
    return False


def threatened(msg: Message, i: int, form: str) -> bool:
    """Is the weak threat word at token *i* (in normalised ``form``) aimed at a person?
    Its object must stand within two words of it (тебя убить мало, всех повесить, убить
    его, казнить гада); a subject does not count (вы можете повесить объявление)."""
    if form in lexicon.THREAT_IN_PHRASES_ONLY:
        return False
    objects = (lexicon.THREAT_OBJECTS_OF_PEOPLE if form in lexicon.THREAT_ON_PEOPLE
               else lexicon.THREAT_OBJECTS)
    toks = msg.toks
    for k in chain(range(max(0, i - 2), i), range(i + 1, min(len(toks), i + 3))):
        info = toks[k][2]
        if not objects.isdisjoint(info.words):
            return True
        if k > i and info.hit is not None and info.hit.rule.category is Category.INSULT:
            return True  # an insult as the object: казнить гада, убить гниду
    return False


def _named(text: str, toks: Sequence[Tok], k: int, i: int) -> bool:
    """Token *k* is a name (capitalised, not the first word) followed by a dash or "это"
    before the word at *i*: "Петров — клоун"."""
    s, e = toks[k][0], toks[k][1]
    raw = text[s:e]
    if not raw[:1].isupper() or raw.isupper():
        return False
    between = text[e : toks[i][0]]
    return "—" in between or " - " in between or "–" in between


def vocative(msg: Message, i: int) -> bool:
    """An insult used as a form of address: set off by commas, or a sentence of its own
    (... опять! Козёл 😡), in a message that speaks to someone (ты/вы, or a command: клоун,
    иди отсюда) or followed by "!"."""
    text, toks = msg.text, msg.toks
    s, e = toks[i][0], toks[i][1]
    before = text[max(0, s - 3) : s].rstrip()
    after = text[e : e + 3].lstrip()
    if not (i == 0 or before.endswith((",", ".", "!", "?", "…"))):  # a clause of its own
        return False
    if after and after[0].isalnum():
        return False
    if i == 0 and not after:
        return False
    return after.startswith("!") or addresses_someone(msg)


def speaks_to_someone(msg: Message) -> bool:
    """Does the message address someone (ты, вы, ваш ...)?"""
    return not msg.words.isdisjoint(lexicon.ADDRESS_WORDS_2ND)


def addresses_someone(msg: Message) -> bool:
    """Second person or a command anywhere in the message (иди в ..., ты ...)."""
    return speaks_to_someone(msg) or not msg.words.isdisjoint(IMPERATIVES)


def at_oneself(msg: Message, i: int) -> bool:
    """"я дурак", "какой же я идиот", "чувствую себя идиотом": the writer about
    themself, in a message that addresses nobody."""
    toks = msg.toks
    for k in range(i - 1, max(-1, i - 1 - _LOOK_BACK), -1):
        ws = toks[k][2].words
        if not SELF.isdisjoint(ws):
            return not speaks_to_someone(msg)
        if not FILLERS.issuperset(ws):
            break
    for k in range(i + 1, min(len(toks), i + 3)):  # подлецом себя чувствую, дурак же я
        if any(ch in ".!?" for ch in msg.text[toks[k - 1][1] : toks[k][0]]):
            break  # the next sentence is about something else (Лера падла!!! Я скучаю)
        ws = toks[k][2].words
        if not SELF_AFTER.isdisjoint(ws) or (k == i + 1 and "себя" in ws):
            return not speaks_to_someone(msg)
        if not FILLERS_AFTER.issuperset(ws):
            break
    return False


def discussed(msg: Message, i: int) -> bool:
    """The word is talked about rather than used: in quotes in a text about words (слово
    «дурак» писать нельзя), or after a verb of naming (он обозвал меня дураком)."""
    text, toks = msg.text, msg.toks
    s, e = toks[i][0], toks[i][1]
    if text[max(0, s - 1) : s] in _QUOTES_OPEN_SET and text[e : e + 1] in _QUOTES_CLOSE_SET \
            and not msg.words.isdisjoint(META):
        return True
    for k in range(i - 1, max(-1, i - 1 - _LOOK_BACK), -1):
        ws = toks[k][2].words
        if not NAMING.isdisjoint(ws):
            return True
        if not lexicon.ADDRESS_WORDS_2ND.isdisjoint(ws):
            return False
    return False
