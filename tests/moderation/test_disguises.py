"""Disguises of the second round: dots, question marks and brackets standing for letters,
masks in any position, @ for о, π for "пи", words cut into pieces, spellings as heard, and
Latin look-alikes mixed into a Cyrillic word. Each with the everyday text it must not
catch."""

from __future__ import annotations

import pytest

from moderation import Action, Category, Detector
from moderation.normalize import word_forms


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


HELD = [
    "ну ты и пи...да, честное слово",  # dots for letters
    "какой же ты д.бил, прости господи",
    "опять бл... контрольную перенесли",  # cut off by dots at the end
    "ху** его знает, где журнал",
    "п%зда полная с этим расписанием",  # % and # in an all-Cyrillic word
    "х#й тебе, а не пятёрка",
    "п##д#ц какой-то творится",  # two masks in a word
    "*уй там плавал",  # a mask in first position
    "д@лб@ёб из параллельного",  # @ for о
    "п?зда рулю",  # a question mark for a letter
    "бл[я], опять дождь",  # brackets
    "πздец, а не погода",  # π for "пи"
    "3.14здец подкрался",
    "хватит дро чить на оценки",  # a word cut into pieces
    "ху ли ты тут пишешь",
    "писдец какой-то",  # spelled as heard
    "йобаный стыд",
    "ибанутый совсем",
    "никуя не понял",
    "ты тyпой совсем",  # a Latin y inside a Cyrillic word
    "ну и дуpа же она",
]


@pytest.mark.parametrize("text", HELD)
def test_disguised_words_are_held(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is not Action.ALLOW, text
    assert v.categories & {Category.OBSCENE, Category.INSULT, Category.RUDE}


ALLOWED = [
    "ну и т.д. и т.п.",
    "т.е. завтра к 9:00",
    "см. рис. 5 на с. 12",
    "по ул. Ленина, д. 5, кв. 3",
    "Что? Где? Когда? — игра в пятницу",
    "Важно: *принести* сменку",
    "подпишите (пожалуйста) согласие",
    "не на то место положили",
    "ну я в шоке от них",
    "пистолет в музее не трогать",
    "Район сдаёт нормы ГТО",
    "вместо «и» пишем «е»",
    "о... понятно",
    "ну... не знаю",
    "бланк заполните полностью",
    "тупой угол больше 90°",
    "купите Пи-пи-пи (игрушка из рекламы)",
    "число π равно 3,14",
    "До ре ми фа соль",
    "Мы с ним за одной партой",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_everyday_text_with_the_same_shapes_passes(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, [(r.matched, r.rule) for r in v.reasons])


def test_percent_and_hash_become_wildcards_in_cyrillic_words() -> None:
    assert word_forms("п%зда").main == "п*зда"
    assert word_forms("х#й").main == "х*й"


def test_a_leading_mask_is_kept_but_emphasis_is_not() -> None:
    assert word_forms("*уй").main == "*уй"
    assert word_forms("*важно*").main == "важно"


def test_mixed_scripts_are_noted() -> None:
    assert word_forms("тyпой").mixed
    assert not word_forms("тупой").mixed
