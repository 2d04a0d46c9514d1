"""Behaviour of the moderation detector as a moderator and a school would notice it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import moderation
from moderation import (
    Action,
    Category,
    Detector,
    Verdict,
    WatchAction,
    WatchedWord,
    check,
    mask,
)

HERE = Path(__file__).parent
EVERYDAY = HERE / "data" / "everyday_school.txt"
SHARED = Path(os.environ.get("HUB_SHARED_DATA", HERE.parents[2] / "shared" / "data"))


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


def held(v: Verdict) -> bool:
    return v.action is not Action.ALLOW


# --- disguises -----------------------------------------------------------------------------
DISGUISED = [
    "ну ты и хуй",
    "х.у.й",
    "х у й",
    "х-у-й",
    "х_у_й",
    "х*й",
    "п**дец",
    "б@#ть",
    "бляяяяя",
    "БлЯдЬ",
    "xуй",  # Latin x
    "cyka",  # all-Latin homoglyphs
    "3аебал",  # digit 3 for з
    "ё6аный",  # digit 6 for б
    "пи\u200bздец",  # zero-width space inside
    "ху\u0301й",  # combining stress mark
    "хуй\u0306",  # stray combining breve
    "пизд\u0435ц",  # Cyrillic е is fine too
    "πиздец",  # Greek pi
    "blyat",
    "pizdec",
    "nahuy",
    "suka",
    "сука!!!",
    "пиз.дец",
    "бл9",
    "fuck you",
    "f*ck",
    "sh1t",
]


@pytest.mark.parametrize("text", DISGUISED)
def test_disguised_obscenity_is_held(det: Detector, text: str) -> None:
    v = det.check(text)
    assert held(v), text
    assert v.categories & {Category.OBSCENE, Category.INSULT, Category.RUDE}


MORPHOLOGY = [
    "нахуя", "похуй", "охуеть", "охуенно", "хуёвый", "захуярить", "дохуя", "нихуя",
    "пиздец", "спиздил", "распиздяй", "отпиздить", "пиздюлей",
    "заебал", "наебал", "выебать", "съебись", "отъебись", "уебок", "доебался", "поебень",
    "ебаный", "разъебать", "подъебнуть", "недоебанный", "переебать", "долбоёб",
    "блядь", "бляди", "выблядок", "блядский",
    "мудак", "мудила", "манда", "залупа", "пидорас", "гандон", "шлюха",
]


@pytest.mark.parametrize("word", MORPHOLOGY)
def test_obscene_roots_with_prefixes_and_endings(det: Detector, word: str) -> None:
    assert held(det.check(word)), word


# Roots added for the rude word-form list, with prefixes and endings.
MORE_ROOTS = [
    "шпилить", "шпилил", "елда", "ялдой", "малафья", "перепихнуться", "перепихон", "пялить",
    "отпялил", "потаскуха", "потаскушка", "какать", "покакал", "обкакался", "какашка",
    "обоссывают", "уссался", "нассал", "обосцал", "сикать", "трахать", "перетрахивать",
    "задрачивать", "вздрючить", "засандалить", "скосоёбился", "шворить", "минет",
    "однохуйственно", "пошелнахуй", "похуист", "хуисос", "подъёбщик", "засранец", "посравший",
    "грёбаный", "говённый", "пендос", "ссучился", "сношаться", "толстозадый", "педераст",
]


@pytest.mark.parametrize("word", MORE_ROOTS)
def test_more_rude_roots_are_held(det: Detector, word: str) -> None:
    assert held(det.check(word)), word


# Ordinary words that contain the letters of the roots above.
MORE_LOOKALIKES = [
    "сандалии", "в сандалиях", "шпиль", "шпилька", "пришпилить", "пяльцы", "пялиться",
    "напялил шапку", "какая", "какао", "какаду", "никак", "выскакал", "засахаренный",
    "харизма", "Харитон", "отхаркивать", "сучить нитку", "Тобосская", "психуй", "подстрахуй",
    "заштрихуй", "рассасывать", "сношение", "говение", "труха", "трухлявый", "ведро",
    "ядрёный", "стипендия", "бомонд", "гребля", "сравнение", "несравненный", "вассал",
    "рассада", "Захар", "минута", "мандарин",
]


@pytest.mark.parametrize("text", MORE_LOOKALIKES)
def test_more_everyday_lookalikes_are_allowed(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, v.reasons)


def test_full_pass_keeps_spans_with_many_tokens(det: Detector) -> None:
    text = "Обычный текст про поход. " * 40 + "а он нассал в углу и т.д. " + "Конец. " * 40
    v = det.check(text)
    (r,) = [r for r in v.reasons if r.rule.startswith("lexicon:")]
    assert text[r.start : r.end] == "нассал" == r.matched


SCUNTHORPE = [
    "оскорблять", "употреблять", "истребитель", "рубля", "корабля", "сабля", "колебаться",
    "хлеб", "гребля", "скипидар", "психолог", "сукно", "мандарин", "команда", "ребёнок",
    "небо", "тройка", "страховка", "застрахуйте", "себе", "вебинар для родителей", "педагог",
    "педиатр", "херувим", "Херсон", "мудрость", "сучок", "трахея", "Хлебников", "Мандельштам",
    "ссылка", "серьёзно", "обсерватория", "учебник", "алгебра",
]


@pytest.mark.parametrize("text", SCUNTHORPE)
def test_everyday_lookalikes_are_allowed(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, v.reasons)


def test_quoted_rules_are_allowed(det: Detector) -> None:
    for text in ("за мат — бан", "ненормативная лексика запрещена",
                 "Оскорблять одноклассников недопустимо."):
        assert det.check(text).allowed, text


# --- insults without obscenity -----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["ты тупой", "ваш сын дебил", "учительница — дура", "заткнись", "вы идиоты",
     "какой же ты урод", "ты козёл", "она тупая"],
)
def test_insults_and_rudeness_are_held(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.HOLD, text
    assert v.categories & {Category.INSULT, Category.RUDE}


def test_context_words_alone_are_not_insults(det: Detector) -> None:
    for text in ("тупой угол", "карандаш тупой, надо заточить", "прыжок через козла",
                 "в дурака играли на перемене"):
        assert det.check(text).allowed, text


def test_threat_is_held(det: Detector) -> None:
    v = det.check("я тебя убью после уроков")
    assert v.action is Action.HOLD
    assert Category.THREAT in v.categories


# --- explanations ------------------------------------------------------------------------------
def test_reason_points_at_the_original_span(det: Detector) -> None:
    text = "Добрый день. Ну ты и б л я д ь, честно. А ещё х.у.й и п**дец."
    v = det.check(text)
    spans = {text[r.start : r.end] for r in v.reasons}
    assert "б л я д ь" in spans
    assert "х.у.й" in spans
    assert "п**дец" in spans
    for r in v.reasons:
        assert r.matched == text[r.start : r.end]
        assert r.rule
        assert 0 < r.score <= 1
    hui = next(r for r in v.reasons if r.matched == "х.у.й")
    assert hui.normalized == "хуй"
    assert hui.category is Category.OBSCENE


def test_reason_for_a_disguised_word_gives_its_normalised_form(det: Detector) -> None:
    text = "это просто 3аЕбАл уже"
    (r,) = det.check(text).reasons
    assert (r.start, r.end) == (11, 17)
    assert r.normalized == "заебал"
    assert r.rule.startswith("lexicon:")


def test_title_is_checked_too(det: Detector) -> None:
    v = det.check("Обычный текст про экскурсию.", title="Учитель — идиот")
    assert v.action is Action.HOLD
    assert v.reasons[0].rule.startswith("title:")


def test_score_and_categories_of_clean_text(det: Detector) -> None:
    v = det.check("Завтра контрольная по алгебре, не забудьте калькуляторы.")
    assert v.action is Action.ALLOW
    assert v.reasons == ()
    assert v.categories == frozenset()
    assert 0.0 <= v.score < 0.5


# --- refuse, watched words, rebuild, mask ------------------------------------------------------
def test_refuse_only_when_configured_and_only_unambiguous_obscenity() -> None:
    strict = Detector(refuse_obscene=True)
    assert strict.check("ну это пиздец").action is Action.REFUSE
    assert strict.check("х*й").action is Action.HOLD  # masked: ambiguous
    assert strict.check("ты тупой").action is Action.HOLD  # insult: a person decides
    assert Detector().check("ну это пиздец").action is Action.HOLD


def test_model_alone_never_refuses() -> None:
    strict = Detector(refuse_obscene=True, hold_threshold=0.0)
    v = strict.check("вы все там совсем уже с ума посходили со своими поборами")
    assert v.action is Action.HOLD
    assert all(r.rule.endswith("model") for r in v.reasons)


def test_watched_words_and_rebuild(det: Detector) -> None:
    text = "Опять эта Марьванна со своими поборами"
    assert det.check(text).allowed
    d2 = det.rebuild(watched=[WatchedWord("побор*", WatchAction.HOLD)])
    v = d2.check(text)
    assert v.action is Action.HOLD
    (r,) = v.reasons
    assert r.category is Category.WATCHED and r.matched == "поборами"
    d3 = d2.rebuild(watched=[WatchedWord("марьванн?", WatchAction.REFUSE)])
    assert d3.check(text).action is Action.REFUSE
    assert det.check(text).allowed  # the old detector is unchanged


def test_watched_word_sees_through_disguise(det: Detector) -> None:
    d = det.rebuild(watched=[WatchedWord("вейп", WatchAction.HOLD)])
    assert d.check("кто продаёт в.е.й.п?").action is Action.HOLD
    assert d.check("кто продаёт ВЕЙПЫ").allowed  # exact word, no wildcard


def test_watched_phrase(det: Detector) -> None:
    d = det.rebuild(watched=[WatchedWord("сбор денег", WatchAction.HOLD)])
    v = d.check("Объявляю сбор  денег на шторы")
    assert v.action is Action.HOLD
    assert v.reasons[0].matched == "сбор  денег"


def test_mask_watched_words(det: Detector) -> None:
    d = det.rebuild(watched=[WatchedWord("вейп*", WatchAction.MASK)])
    text = "Не покупайте детям вейпы!"
    assert d.mask(text) == "Не покупайте детям в****!"
    assert d.check(text).allowed  # masked words are published, masked
    assert d.mask("Всё спокойно.") == "Всё спокойно."


def test_mask_obscene_on_request(det: Detector) -> None:
    assert det.mask("ну ты и мудак", obscene=True) == "ну ты и м****"
    assert det.mask("ну ты и мудак") == "ну ты и мудак"


def test_module_level_helpers() -> None:
    assert check("пиздец").action is Action.HOLD
    assert check("Добрый день!").allowed
    assert mask("Добрый день!") == "Добрый день!"
    d = moderation.default_detector()
    moderation.set_default_detector(d.rebuild(watched=[WatchedWord("шпаргалк*")]))
    try:
        assert check("дай шпаргалку").action is Action.HOLD
    finally:
        moderation.set_default_detector(d)


def test_invalid_threshold_is_rejected() -> None:
    with pytest.raises(ValueError):
        Detector(hold_threshold=1.5)


def test_detector_builds_fast() -> None:
    Detector()  # the model is loaded once per process
    t = time.perf_counter()
    Detector(watched=[WatchedWord(f"слово{i}*") for i in range(200)])
    assert time.perf_counter() - t < 1.0


# --- sizes -----------------------------------------------------------------------------------
def test_empty_and_blank_inputs(det: Detector) -> None:
    for text in ("", "   ", "\n\n", "!!!", "12345"):
        v = det.check(text)
        assert v.action is Action.ALLOW and v.reasons == ()


def test_one_megabyte_text_is_handled(det: Detector) -> None:
    para = "Уважаемые родители, завтра экскурсия в музей, сбор в 9:00 у школы. "
    big = (para * (1_000_000 // len(para) + 1))[:1_000_000]
    t = time.perf_counter()
    assert det.check(big).allowed
    bad = big[:500_000] + " ну и пиздец " + big[500_000:]
    v = det.check(bad)
    assert v.action is Action.HOLD
    assert any(r.matched == "пиздец" for r in v.reasons)
    assert time.perf_counter() - t < 30  # bounded: seconds, not minutes


def test_one_megabyte_single_token_is_handled(det: Detector) -> None:
    assert det.check("а" * 1_000_000).allowed
    assert det.check("х" * 500_000 + "уй").action is Action.HOLD
    assert det.check("х у " * 200_000 + "й").action is Action.HOLD


# --- the everyday school set ------------------------------------------------------------
def _everyday() -> list[str]:
    return [ln.strip() for ln in EVERYDAY.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]


def test_everyday_set_is_big_enough() -> None:
    assert len(_everyday()) >= 1000


def test_everyday_school_set_has_no_false_positives(det: Detector) -> None:
    flagged = [(t, [r.rule for r in v.reasons]) for t in _everyday()
               if not (v := det.check(t)).allowed]
    assert flagged == []


# --- the shared data (skipped when ../shared/data is absent) ---------------------------------
needs_shared = pytest.mark.skipif(not (SHARED / "ru_rude_wordforms.txt").exists(),
                                  reason=f"shared data not found at {SHARED}")


@needs_shared
def test_recall_on_a_sample_of_rude_word_forms(det: Detector) -> None:
    lines = [ln.strip() for ln in (SHARED / "ru_rude_wordforms.txt").open(encoding="utf-8")]
    sample = [w for w in lines[::50] if w]
    recall = sum(held(det.check(w)) for w in sample) / len(sample)
    assert recall >= 0.9


@needs_shared
def test_dev_set_quality() -> None:
    from moderation.train import read_detox

    d = Detector()
    pos, neg = read_detox(SHARED / "ru_detox_dev.tsv")
    tp = sum(held(d.check(t)) for t in pos)
    fp = sum(held(d.check(t)) for t in neg)
    precision = tp / (tp + fp)
    recall = tp / len(pos)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.9
    assert fp / len(neg) < 0.02
