"""Phenomena the detector learnt in its third round: threats of violent punishment as
phrases, insults used without ты/вы (as a form of address, side by side, or with an
abusive rest of the message), mangled slurs, and the hard negatives of each."""

from __future__ import annotations

import pytest

from moderation import Action, Category, Detector
from moderation.model import ToxicityModel


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


def _reasons(v) -> list[tuple[str, str]]:
    return [(r.matched, r.rule) for r in v.reasons]


# --- threats of violent punishment ---------------------------------------------------------
THREATS = [
    "руки бы оторвать тому, кто это сделал",
    "таких к стенке надо ставить",
    "к стенке их всех",
    "на кол посадить!",
    "в морду бы дал ему",
    "морду набить за такое",
    "за яйца повесить",
    "стрелять их надо",
    "убить его мало",
    "голову открутить этому водителю",
    "расстрелять надо",
    "отметелить бы его",
]


@pytest.mark.parametrize("text", THREATS)
def test_threat_phrases_are_held(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.HOLD, text
    assert Category.THREAT in v.categories, _reasons(v)


def test_threat_phrase_reason_spans_the_phrase(det: Detector) -> None:
    text = "Таких руки бы оторвать, честное слово."
    v = det.check(text)
    (r,) = [r for r in v.reasons if r.rule == "lexicon:угроза-фраза"]
    assert r.matched == text[r.start : r.end] == "руки бы оторвать"


THREAT_LOOKALIKES = [
    "поставьте шкаф к стенке",
    "встаньте к стенке, будем мерить рост",
    "получил кол по физике",
    "нужно посадить деревья у школы",
    "надо повесить объявление на дверь",
    "мойте руки перед едой",
    "можно сломать руку, если прыгать с забора",
    "забить гол в ворота",
    "забить гвоздь молотком",
    "давить на педаль тормоза",
    "казнить нельзя помиловать — где поставить запятую?",
    "убить время до урока",
    "отрубить сухие ветки у яблони",
    "стенка на стенку в игре",
]


@pytest.mark.parametrize("text", THREAT_LOOKALIKES)
def test_everyday_words_of_threat_phrases_are_allowed(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, _reasons(v))


# --- insults without ты/вы ------------------------------------------------------------------
INSULTS = [
    "хамло ты",
    "ну и хмырь",
    "пьянь подзаборная",
    "опять этот задрот",
    "водятлы без прав",
    "терпилы",
    "питух",
    "петушара",
    "не верь всему, что тебе говорят, даун.",  # a form of address between commas
    "тупой клоун",  # two insults side by side aim each other
    "смотри какой тупой клоун выступает",
    "ты настолько туп",
    "ты хам",
    "либерда вонючая",
]


@pytest.mark.parametrize("text", INSULTS)
def test_insults_without_address_are_held(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.HOLD, text
    assert v.categories & {Category.INSULT, Category.RUDE}, _reasons(v)


INSULT_LOOKALIKES = [
    "синдром Дауна — тема урока биологии",
    "петух кукарекает по утрам",
    "У бабушки в деревне есть куры и петух.",
    "У бабушки живут куры, петух.",  # between commas, but the message speaks to no one
    "гниды и вши: осмотр у медсестры в пятницу",
    "Хам, Сим и Иафет — сыновья Ноя",
    "мерзкая погода, опять дождь",
    "убогий домик на окраине деревни",
    "фашисты напали на СССР в 1941 году",
    "бояре и холопы в Древней Руси",
    "тёплый ватник для похода",
    "в цирке выступал клоун",
    "Педро из Испании приехал по обмену",
    "монахов в монастыре было много",
]


@pytest.mark.parametrize("text", INSULT_LOOKALIKES)
def test_everyday_senses_of_weak_insults_are_allowed(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, _reasons(v))


def _flat_model(weak_threshold: float) -> ToxicityModel:
    """A model that scores every message 0.5 (no weights, bias 0)."""
    return ToxicityModel({}, 0.0, 0.9, "test", weak_threshold)


def test_weak_insult_holds_when_the_model_finds_the_message_abusive() -> None:
    text = "опять этот даун пришёл на собрание"
    assert Detector(model=_flat_model(0.4)).check(text).action is Action.HOLD
    assert Detector(model=_flat_model(0.6)).check(text).allowed
    assert Detector(use_model=False).check(text).allowed


def test_model_route_needs_a_mostly_abusive_word() -> None:
    # тупой and козёл have everyday senses: only ты/вы, a person or a pair aims them.
    d = Detector(model=_flat_model(0.1))
    assert d.check("тупой угол треугольника").allowed
    assert d.check("прыжок через козла").allowed
    assert d.check("синдром Дауна").allowed  # capitalised: a name, not an insult


def test_shipped_model_has_a_weak_threshold_between_clean_and_hold() -> None:
    d = Detector()
    assert d.model is not None
    assert 0.3 < d.weak_threshold <= d.hold_threshold


# --- mangled and compound slurs ---------------------------------------------------------
MANGLED = [
    "пидобол", "брипидор", "политпидорасы", "единопедорассы", "пидров", "вые*ки",
    "добоебов", "дохуе", "пошелнахуй", "иссосать", "обсосок", "мавдюлить", "примавдовывать",
    "засеренный", "высереть", "заебу", "неебу", "раздолбай", "ялдой", "хуишко", "похуизм",
    "бзднуть", "сухобзделка", "голоёбица", "смехуёчек", "шпокнуть",
]


@pytest.mark.parametrize("word", MANGLED)
def test_mangled_and_compound_slurs_are_held(det: Detector, word: str) -> None:
    assert not det.check(word).allowed, word


MANGLED_LOOKALIKES = [
    "насос качает воду", "засасывает болото", "пересоставить расписание", "посерело небо",
    "рассерженный учитель", "подмахнуть документ", "колебаться", "всеравно приду", "небу",
    "поколебать уверенность", "высеребрить", "обсерватория", "Педро", "монахов",
]


@pytest.mark.parametrize("text", MANGLED_LOOKALIKES)
def test_lookalikes_of_mangled_slurs_are_allowed(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, _reasons(v))


def test_spaced_letters_still_take_the_full_pass(det: Detector) -> None:
    text = "Обычное сообщение, а потом х у й и ещё слова про школу"
    v = det.check(text)
    assert any(r.rule.startswith("spaced:") and r.matched.startswith("х у й") for r in v.reasons)
    assert det.check("в с и — буквы алфавита").allowed
