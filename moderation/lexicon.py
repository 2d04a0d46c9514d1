"""The vocabulary: obscene, insulting, rude and threatening words as roots with
morphology, and the ordinary words that merely look like them.

Patterns are matched with ``fullmatch`` against one normalised word (see ``normalize``),
so a root only fires at the start of a word or after a real prefix chain (на-, по-, за-,
от-, вы-, раз-, у-, до-, пере-, под-, недо-, ...). That is what keeps ``оскорблять``,
``рубля``, ``корабля``, ``сабля``, ``хлеб``, ``небо``, ``скипидар``, ``команда``,
``мандарин``, ``страховка`` and ``сукно`` clean: the obscene-looking string in them is not
preceded by a prefix chain, or is not followed by an ending the root takes.

Written for this project from knowledge of Russian morphology; no word list is copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Category(str, Enum):
    """What kind of abuse a finding is."""

    OBSCENE = "obscene"
    INSULT = "insult"
    RUDE = "rude"
    THREAT = "threat"
    WATCHED = "watched"


@dataclass(frozen=True, slots=True)
class Rule:
    """One lexicon rule. ``strong`` rules fire on their own; weak ones (words with an
    innocent everyday sense: тупой угол, козёл in the gym, гниды in a nurse's note) fire
    only when the word is aimed at someone (ты, вы, ваш сын, ...)."""

    name: str
    category: Category
    strong: bool = True

    @property
    def score(self) -> float:
        if not self.strong:
            return 0.85
        return {
            Category.OBSCENE: 0.99,
            Category.INSULT: 0.95,
            Category.THREAT: 0.95,
            Category.RUDE: 0.9,
            Category.WATCHED: 1.0,
        }[self.category]


# --- prefixes -------------------------------------------------------------------------
# Verbal and nominal prefixes that obscene roots combine with (chains of up to three:
# по-на-хуй, до-за-ебать, пере-вы-...).
_PFX = (
    r"(?:пере|недо|подъ|подо|под|надо|над|объ|обо|об|отъ|ото|от|разъ|разо|раз|рас|роз|рос"
    r"|изъ|изо|из|ис|взъ|вз|вс|воз|вос|съ|со|с|въ|во|в|за|на|по|до|про|при|пре|вы|у|о|а"
    r"|не|ни|полу|без|бес|наи|поза|ну|скосо|косо|кона|вскона|осто|ахуе)"
)
_PFXS = rf"(?:{_PFX}){{0,3}}"
# Before a root that starts with a vowel (еб-) a prefix ending in a consonant takes ъ/ь
# (съебать, въебать, подъебнуть); bare с-/в- are not allowed (себе, вебинар).
_PFX_E = (
    r"(?:(?:пере|недо|за|на|по|до|про|при|пре|вы|у|о|не|ни|наи|поза|обо|подо|ото|разо|изо"
    r"|взо|во|со|долбо|мозго|скосо|косо|кона|вскона|осто|хитро|хитровы|нна|ну)"
    r"|(?:под|над|от|раз|рас|из|вз|вс|об|в|с)[ъь]|(?:под|от|раз|из|об))"
)
_PFXS_E = rf"(?:(?:{_PFX}){{0,2}}{_PFX_E})?"

# --- obscene roots ------------------------------------------------------------------------
_OBSCENE = {
    # хуй and its family: хуёвый, нахуя, охуеть, хуила, похую, хуярить.
    "хуй": rf"{_PFXS}ху(?:й\w*|[её][вснтлшцмркпчжзгбдх]\w*|я\w*|ю\w*|и(?:л|н|щ|ло|ла)\w*"
    r"|ле|ли)",
    "пизд": r"\w*п[иеёы]з(?:д|ж|дь)\w*",
    "бля": rf"{_PFXS}бл(?:я(?:[дт]\w*)?|[еэ](?:а|я)?[дт]ь|[еэ]ать|[еэ]адь|ядь)",
    "еб": rf"{_PFXS_E}[её]б(?:а|у|л|н|ы|и|ё|е|ш|ч|к|с|ц|т|ь|о|ищ|ись|$)\w*",
    "еб-сложные": r"\w*[оа](?:вы|за|на|по)?[её]б(?:ан|ну|ал|ат|ыв|ищ|ок|ень|л|у|ис)\w*",
    "манд": rf"{_PFXS}манд(?!ат|ар|ол|р|ал|иб|ел|ант|еи|ин)\w*",
    "муд": rf"{_PFXS}муд(?!р|ьюг|жах)\w*",
    "залуп": rf"{_PFXS}залуп\w*",
    "ебля-англ": r"еблан\w*",
}

_RUDE = {
    "дроч": rf"{_PFXS}дроч\w*",
    "хер": rf"{_PFXS}хер(?!сон|ес|увим|ув|рн|ц)\w*",
    "хрен": rf"{_PFXS}хрен\w*",
    "говно": rf"{_PFXS}г[ао]вн(?!ер)\w*",
    "дерьмо": rf"{_PFXS}дерьм\w*",
    "жопа": r"\w*ж[оа]п(?:а|ы|е|у|ой|ою|ам|ами|ах|ищ|ень|ник|ошн|ол|к|н|ош|ён|ень|$)\w*",
    "срать": rf"{_PFXS}ср(?:а(?:[тлнчк]|ть)\w*|[еу]т(?!ен)\w*|ешь\w*|усь|у|ёт\w*|ака\w*)",
    "сер-": rf"(?:{_PFX}){{1,3}}сер(?:а[тлюе]\w*|у[тн]?\w*|е(?:т|шь|м|те)\w*|ун\w*|ит\w*"
    r"|и[лвтш]\w*|$)",
    "ссать": rf"{_PFXS}сс(?:а(?:ть|[лнтчк])\w*|ы(?:к\w*|шь|т|те|ш\w*)|у[тн]\w*|и[тш]\w*)",
    "перд": rf"{_PFXS}перд\w*",
    "дрист": rf"{_PFXS}дри(?:ст|сн|щ)\w*",
    "трах": r"(?:за|от|вы|пере|по|на|у|до|об|про|при|раз|рас|под|недо|ото){0,2}"
    r"трах(?:а[лтюеяйвщшн]\w*|н\w*|ун\w*|$)",
    "хлебало": r"хлебал(?:о|у|ом|е|ьник\w*)|хавальник\w*|ебальник\w*",
    "заткнись": r"заткн(?:ись|итесь|и|ите)",
    "отвали": r"отвали(?:те)?|отвянь(?:те)?|отстань(?:те)?|проваливай(?:те)?|катись"
    r"|пшел|пшол|сдохни(?:те)?|сдохнешь|сдохнете",
}

_INSULT = {
    "пидор": rf"{_PFXS}п[иеё]д(?:[оа]р|р(?!о)|ик|ил(?!л)|рил|рюк|[еи]раст)\w*",
    "гандон": r"г[ао]нд[оа]н\w*",
    "шлюха": r"шлюх\w*|шлюш\w*|шалав\w*|курв\w*|стерв(?:а|ы|е|у|ой|ам|ами|ах|оз\w*|ятин\w*)"
    r"|шмар\w*|лярв\w*|проститутк\w*",
    "сука": r"с?сук(?:а|и|е|у|ой|ою|ам|ами|ах|ин|ина|ины|ину|иным?|ины|иной|ен\w*|ан\w*)"
    r"|сучк(?:а|и|е|у|ой|ою|ам|ами)|сучар\w*|сучен\w*|сучий|сучь[еия]\w*|сучон\w*",
    "дебил": r"дебил\w*|идиот\w*|кретин\w*|имбецил\w*|дегенерат\w*|даунич\w*",
    "придурок": r"придур(?:ок|к|ошн|ь)\w*|недоум(?:ок|к)\w*|ушл[её]п(?:ок|к)\w*"
    r"|отмороз(?:ок|к)\w*|ублюд\w*|выродо?к\w*|подон(?:ок|к)\w*|урод(?:|а|у|ом|е|ы|ов|ам"
    r"|ами|ах|ин\w*|к[аиеуо]\w*|ец|цы|цов|ищ\w*|ство)|уебищ\w*",
    "мразь": r"мраз(?:ь|и|ью|ей|ям|ями|ях|от\w*|ина\w*)|твар(?:ь|и|ью|ей|ям|ями|ях)"
    r"|сволоч\w*|скотин\w*|быдл\w*|падл(?:а|ы|е|у|ой|ам|ами|ах|юк\w*|юч\w*)|паскуд\w*"
    r"|ничтожеств\w*|гадин\w*|гад[её]ныш\w*|мерзав\w*|негодя\w*|подлец\w*|подлюк\w*"
    r"|бестолоч\w*|чмо|чмы|чмошн\w*|чмыр\w*|нищеброд\w*",
    "дура": r"дур(?:а|ы|е|у|ой|ою|ам|ами|ах|ищ\w*|ех\w*|еха\w*)|дурак\w*|дурач(?:ок|к)\w*"
    r"|дур(?:ень|ня|ню|нем|ни)|тупиц\w*|тупорыл\w*|тупоголов\w*|т[уy]пор[ыи]л\w*"
    r"|долбо\w+|лох(?:|а|у|ом|и|ов|ам|ами|ушк\w*|астр\w*)|лошар\w*|лошп\w*",
    "жирдяй": r"жирдя\w*|жиртрест\w*|жирух\w*|жиробас\w*",
    "нац-оскорбление": r"чурк\w*|чурбан\w*|хач(?:|а|и|у|ом|ей|ам|ами|ах|ик\w*|ьё|ье|ня)"
    r"|жид(?:|а|у|ом|ы|ов|ам|ами|ах|овк\w*|яр\w*|овск\w*|ёнок|енок|ят\w*)|нерусь\w*"
    r"|москал\w*|кацап\w*|пиндос\w*|хохлушк\w*|хохлят\w*|чернож[оа]п\w*|узкоглаз\w*",
}

_THREAT = {
    "угроза": r"убью|убьем|убьём|убейся|убейтесь|урою|уроем|зарежу|зарежем|пристрелю"
    r"|застрелю|пристрелим|застрелим|задушу|придушу|покалечу|изобью|прикончу|прикончим"
    r"|взорву|взорвем|отпизжу|отхуярю",
}

# Words that are abusive only when aimed at a person (ты тупой, ваш сын — козёл).
_WEAK = {
    "тупой": (Category.INSULT, r"туп(?:ой|ая|ое|ые|ого|ому|ым|ых|ыми|ую|ица|ицы|ень|ня|ни"
              r"|ишь|ите|ит|ят)"),
    "животное": (Category.INSULT, r"коз(?:ел|ла|лу|лом|ле|лы|лов|лам|лами|лина\w*|лик\w*"
                 r"|лиш\w*)|свин(?:ья|ьи|ье|ью|ьей|ей|ьям|ьями|от\w*|тус\w*)"
                 r"|овц(?:а|ы|е|у|ой)|коров(?:а|ы|е|у|ой|ища)|баран(?:|а|у|ом|ы|ов|ами|ам)"
                 r"|осел|осла|ослу|ослом|ослы|ослов|ослиц\w*|обезьян\w*|петух(?:|а|у|ом|и|ов)"
                 r"|петушар\w*|крыс(?:а|ы|у|ой|ятин\w*)|шакал\w*|гнид(?:а|ы|е|у|ой)"
                 r"|дятел|дятлы|дятла|дятлом|бычар\w*|вонючк\w*|упыр\w*"),
    "псих": (Category.INSULT, r"псих(?:|а|у|ом|и|ов|ами|опат\w*|ичк\w*|ованн\w*)"
             r"|шиз(?:ик\w*|а|у|ой|оид\w*|анут\w*)|даун(?:|а|у|ом|ы|ов|ам|ами)"
             r"|неуч\w*|бездар\w*|дубин\w*|тормоз|сопляк\w*|сопливк\w*|клоун\w*|гад(?:|а|ы|ов|ам)"
             r"|урод(?:лив\w*)|жирн(?:ый|ая|ые|ого|ую|ой|ых)|вонюч\w*|толстож\w*|лысый"
             r"|недонос(?:ок|к)\w*|олигофрен\w*|аутист\w*|хохол|хохл(?:ы|ов|ам|ами|а)"),
    "угроза-слабая": (Category.THREAT, r"убить|убьет|убьют|урыть|замочу|грохну|повешу|сожгу"
                      r"|раздавлю|размажу|прибью|порежу|уничтожу|закопаю|переломаю"),
}

# Everyday words that the patterns above would otherwise catch.
_EXCEPTIONS = (
    r"мудр\w*|премудр\w*|хлеб(?!ал[оуеь]|альник)\w*|мандарин\w*|мандат\w*|команд\w*|скипидар\w*"
    r"|херсон\w*|херес\w*|херувим\w*|хулиган\w*|сукн\w*|сукровиц\w*|психолог\w*"
    r"|страх\w*|застрах\w*|трахе\w*|трахом\w*|ебург\w*|сабл\w*|корабл\w*|рубл\w*|гребл\w*"
    r"|употребл\w*|оскорбл\w*|истреб\w*|колеб\w*|ребен\w*|реб[её]н\w*|неб\w*|себ\w*|теб\w*"
    r"|учеб\w*|потреб\w*|дебет\w*|гребен\w*|серебр\w*|сердц\w*|серьез\w*|сердит\w*"
    r"|педагог\w*|педиатр\w*|педал\w*|педант\w*|сретен\w*|ссыл\w*|ссор\w*|ссуд\w*|ссад\w*"
    r"|рассад\w*|рассуд\w*|обсерват\w*|обсерв\w*|трахтенберг\w*|хуан\w*|хуэй\w*|мандельштам\w*"
    r"|мандел\w*|мандолин\w*|мандрагор\w*|мандала\w*|чуркин\w*|лохматы\w*|лохан\w*"
    r"|хачапури\w*|хачатур\w*|жидк\w*|жидкост\w*|сучков\w*|сучок|сучком"
    r"|гандбол\w*|гондол\w*|шлюз\w*|пизанск\w*|бляшк\w*|блях\w*|долбит\w*|долбят\w*|долбил\w*"
    r"|дурачит\w*|дурачат\w*|урожа\w*|уродил\w*|уродит\w*|уродятся|курват\w*|срам\w*|сравн\w*"
    r"|коровин\w*|баранк\w*|козлят\w*|свинин\w*|свинц\w*|обезьянник\w*|петушок|тупик\w*"
    r"|епископ\w*|ебол\w*|ебэ\w*|хулахуп\w*|похуда\w*|похудел\w*|похуд\w*|ухуд\w*|ухудш\w*"
    r"|охуд\w*|захуда\w*|нахуд\w*|отхуд\w*|худ\w*|худож\w*|уху|ухуа|хурм\w*|хутор\w*"
    r"|перепел\w*|херц\w*|сосиск\w*|застрахуй\w*|страхуй\w*|хулит\w*|хулу|хула"
)

# Common obscene and rude words, for reading masked spellings (х*й, п**дец, f*ck).
CANON_RU = (
    "хуй хуя хуи хую хуем хуе хуйня хуйню хуйни хуево хуёво хуевый хуёвый хуета нахуй нахуя "
    "похуй дохуя нихуя охуеть охуел охуела охуели охуенно охуенный захуярить хули "
    "пизда пизды пизде пизду пиздой пиздец пиздеца пиздато пиздатый пиздеть пиздит пиздишь "
    "пиздюк пиздюлей спиздил спиздила спиздили распиздяй пиздабол пиздобол "
    "блядь блять бля бляди блядина блядский блядство выблядок "
    "ебать ебал ебала ебали ебет ебёт ебут ебу ебаный ебанный ебанутый ебанат ебало ебальник "
    "ебло еблан заебал заебала заебали заебись наебал наебали уебок уебан уебище отъебись "
    "въебать выебать выебал съебать съебал съебись проебал поебать поебень долбоеб долбоёб "
    "мудак мудила мудак мудаки мудачье манда мандец залупа гандон гондон пидор пидорас "
    "пидарас пидр пидар сука суки сучка сучара дерьмо говно жопа жопу херня хер нахер "
    "похер хрен хрень дрочить срать ссать шлюха мразь"
)
CANON_EN = (
    "fuck fucking fucked fucker fuckers motherfucker shit shitty bullshit bitch bitches "
    "cunt asshole dick dickhead bastard whore slut crap damn piss pissed wtf stfu"
)
_CANON = "\n".join(CANON_RU.split() + CANON_EN.split())

_ENGLISH = (
    r"f+u*c*k+\w*|f+[uv]+c+k*\w*|fck\w*|fuk\w*|fuq\w*|phuck\w*|\w*motherf\w*|\w*fucker\w*"
    r"|sh[i1]t(?!ak|ake|e$)\w*|bullsh\w*|bitch\w*|biatch\w*|cunt\w*|\w*asshole\w*|arsehole\w*"
    r"|dumbass\w*|jackass\w*|dickhead\w*|bastard\w*|whore\w*|slut\w*|retard\w*|moron\w*"
    r"|idiot\w*|wtf|stfu|twat\w*|wank\w*|prick\w*|douche\w*|nigg\w*|fag\w*|faggot\w*"
)
_ENGLISH_WEAK = r"stupid|dumb|dick|dicks|crap|crappy|jerk|loser|ugly|fat|pig|cow|freak|trash"
_LATIN_EXCEPTIONS = r"ebay|ebook\w*|ebola|ebb\w*|hue|hues|hera|ebony|ebert|huey|sukhoi"
# A word written in Latin letters is read as Russian only against these unambiguous roots
# (so English mud, Mandy or ebb stay clean while blyat, pizdec, nahuy and cyka do not).
_LATIN_RU = (
    r"(?:на|по|до|ни|за|о|от|вы|с|у)?ху(?:й|[её][вн]|я|ю|и|йн)\w*|\w*п[иеы]зд\w*"
    r"|бля[дт]?\w*|бл[еэ]а?[дт]ь?|(?:за|на|у|вы|от|съ|по|до|про|раз)?[её]б(?:а[лнтш]|ан|ну|ут|ет|л[ао])\w*"
    r"|с?сук(?:а|и|ин\w*)|сучк[аи]|п[иеы]д[оа]?р\w*|мудак\w*|мудил\w*|г[ао]ндон\w*|залуп\w*"
    r"|манда|мандец|еблан\w*|ху[её]с[оа]с\w*|долбо[её]б\w*|шлюх\w*|мразь|дебил\w*"
)


def _compile(groups: list[tuple[Rule, str]]) -> tuple[re.Pattern[str], dict[str, Rule]]:
    names: dict[str, Rule] = {}
    parts = []
    for i, (rule, pattern) in enumerate(groups):
        g = f"g{i}"
        names[g] = rule
        parts.append(f"(?P<{g}>{pattern})")
    return re.compile("|".join(parts)), names


_RULES: list[tuple[Rule, str]] = []
for _name, _pat in _OBSCENE.items():
    _RULES.append((Rule(_name, Category.OBSCENE), _pat))
for _name, _pat in _THREAT.items():
    _RULES.append((Rule(_name, Category.THREAT), _pat))
for _name, _pat in _INSULT.items():
    _RULES.append((Rule(_name, Category.INSULT), _pat))
for _name, _pat in _RUDE.items():
    _RULES.append((Rule(_name, Category.RUDE), _pat))
for _name, (_cat, _pat) in _WEAK.items():
    _RULES.append((Rule(_name, _cat, strong=False), _pat))

_WORD_RE, _WORD_RULES = _compile(_RULES)
_EXCEPTION_RE = re.compile(_EXCEPTIONS)
_ENGLISH_RE, _ENGLISH_RULES = _compile(
    [(Rule("english", Category.OBSCENE), _ENGLISH),
     (Rule("english-weak", Category.INSULT, strong=False), _ENGLISH_WEAK)]
)
_LATIN_EXCEPTION_RE = re.compile(_LATIN_EXCEPTIONS)
_LATIN_RU_RE = re.compile(_LATIN_RU)
_LATIN_RU_RULE = Rule("транслит", Category.OBSCENE)
_LONG_SAFE_RE = re.compile(
    r"п[иеё]зд|хуй|хуе[вн]|бляд|блят|[её]бан|[её]бал|[её]бат|заеб|долбо[её]б|пид[оа]р|гандон"
    r"|мудак|мудил"
)

# Words that aim a weak insult at a person.
ADDRESS_WORDS = frozenset(
    "ты тебя тебе тобой вы вас вам вами твой твоя твое твои твоего твоей твоему твоим "
    "ваш ваша ваше ваши вашего вашей вашему вашим вашу сам сама сами он она они оно "
    "сын сынок дочь дочка ребенок учитель учительница училка классная директор "
    "сволочь".split()
)
# Tokens that, just before a word, undo it (в дурака = the card game).
WEAK_LIMIT = 2


def match_word(form: str) -> Rule | None:
    """The rule a normalised Russian word breaks, or None. Exceptions win."""
    if not form or len(form) < 2:
        return None
    if _EXCEPTION_RE.fullmatch(form):
        return None
    if len(form) > 40:
        return Rule("корень-в-длинном-слове", Category.OBSCENE) if _LONG_SAFE_RE.search(form) \
            else None
    m = _WORD_RE.fullmatch(form)
    if m is None:
        return None
    return _WORD_RULES[m.lastgroup or ""]


def match_english(latin: str) -> Rule | None:
    """The rule an English (or leetspeak) word breaks, or None."""
    if len(latin) < 3 or len(latin) > 40 or _LATIN_EXCEPTION_RE.fullmatch(latin):
        return None
    m = _ENGLISH_RE.fullmatch(latin)
    return _ENGLISH_RULES[m.lastgroup or ""] if m else None


def match_latin_russian(form: str) -> Rule | None:
    """The rule a Latin-script word breaks when read as Russian (transliteration or
    homoglyphs): only unambiguous roots count."""
    if len(form) < 3 or len(form) > 40 or _EXCEPTION_RE.fullmatch(form):
        return None
    return _LATIN_RU_RULE if _LATIN_RU_RE.fullmatch(form) else None


def search_roots(joined: str) -> re.Match[str] | None:
    """Find an unambiguous obscene root inside a run of joined letters (х у й)."""
    return _LONG_SAFE_RE.search(joined)


def match_masked(form: str) -> str | None:
    """The common obscene word a masked spelling stands for (х*й -> хуй), or None.

    Needs at least two visible letters, and the first character must be visible."""
    if "*" not in form or form.startswith("*"):
        return None
    letters = sum(1 for ch in form if ch != "*")
    if letters < 2 or len(form) > 20:
        return None
    pieces = [re.escape(p) for p in form.split("*")]
    pat = r"\w{1,4}".join(pieces)
    m = re.search(rf"(?m)^{pat}$", _CANON)
    return m.group(0) if m else None
