"""At whom a word is aimed: widened to plural address, words after the insult, names with
a dash and commands; narrowed for the writer about themself, a word talked about, and the
fairy-tale hero. And the school's setting for rude words."""

from __future__ import annotations

import pytest

from moderation import Action, Detector, DetectorSettings


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


AIMED = [
    "вы все здесь тупые",  # plural address with words between
    "клоун тут ты, а не он",  # the address after the word
    "Петров — клоун",  # a name with a dash: the word is its predicate
    "клоун, иди отсюда",  # a form of address with a command
    "Клоун!",
    "ты настолько туп, что смешно",
    "ну ты и укроп",
    "я тебе говорю, ты дурак",  # "я" in a message that speaks to someone
    "сам дурак",  # a retort is aimed at the other
]


@pytest.mark.parametrize("text", AIMED)
def test_words_aimed_at_a_person_are_held(det: Detector, text: str) -> None:
    assert det.check(text).action is not Action.ALLOW, text


NOT_AIMED = [
    "я дурак, забыл сменку",
    "какой же я идиот, перепутал кабинет",
    "чувствую себя идиотом на этих собраниях",
    "он назвал меня дураком при всех",  # a report of bullying
    "не обзывайте детей дураками",
    "слово «дурак» писать в чате нельзя",
    "за мат в чате — бан",
    "сказка про Ивана-дурака",
    "Иван-дурак и Конёк-Горбунок",
    "Жил-был Иван дурак",
    "какой идиотизм с этими пропусками",
    "посадить всех желающих в автобус",
    "тупой угол больше прямого",
]


@pytest.mark.parametrize("text", NOT_AIMED)
def test_words_not_aimed_at_anyone_pass(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, [(r.matched, r.rule) for r in v.reasons])


def test_obscenity_aimed_at_oneself_is_still_held(det: Detector) -> None:
    assert det.check("я мудак").action is Action.HOLD  # an insult, and obscene
    assert det.check("я в пизду это всё").action is Action.HOLD


RUDE_NOT_AIMED = ["хрен знает, когда будет ремонт", "жопа какая-то с расписанием",
                  "говно погода сегодня"]
RUDE_AIMED = ["ты жопа", "иди в жопу", "заткнись уже", "сам ты говно"]


@pytest.mark.parametrize("text", RUDE_NOT_AIMED + RUDE_AIMED)
def test_rude_words_are_held_by_default(det: Detector, text: str) -> None:
    assert det.check(text).action is Action.HOLD


@pytest.mark.parametrize("text", RUDE_NOT_AIMED)
def test_the_school_may_let_rude_words_pass_unless_aimed(text: str) -> None:
    lenient = DetectorSettings(rude_unless_aimed=True).build()
    assert lenient.check(text).action is Action.ALLOW


@pytest.mark.parametrize("text", [*RUDE_AIMED, "хуй знает", "ты дебил"])
def test_aimed_rude_words_obscenity_and_insults_are_held_anyway(text: str) -> None:
    lenient = Detector(rude_unless_aimed=True)
    assert lenient.check(text).action is Action.HOLD


def test_rebuild_keeps_the_rude_setting() -> None:
    lenient = Detector(rude_unless_aimed=True)
    assert lenient.rebuild(watched=()).rude_unless_aimed
    assert not lenient.rebuild(rude_unless_aimed=False).rude_unless_aimed
