"""Words the second round added: political slurs aimed at people, insults about the mind and
of a person, animal insults, ethnic and LGBT slurs, "your mother" jokes, death wishes and
vulgar words; each beside the everyday sense it must leave alone."""

from __future__ import annotations

import pytest

from moderation import Action, Category, Detector


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


HELD = {
    "кремлеботы опять набежали в комментарии": Category.INSULT,
    "рашисты и укропы, разойдитесь": Category.INSULT,
    "Путлер снова выступил": Category.INSULT,
    "ты ватник": Category.INSULT,
    "конченые люди, честное слово": Category.INSULT,
    "слабоумный какой-то пишет": Category.INSULT,
    "эта шваль опять у подъезда": Category.INSULT,
    "ворюги в управляющей компании": Category.INSULT,
    "шавки продажные, вот вы кто": Category.INSULT,
    "ну ты и гиена": Category.INSULT,
    "вы все тут глисты": Category.INSULT,
    "понаехали черномазые": Category.INSULT,
    "заднеприводные опять флаги вывесили": Category.INSULT,
    "твою мамку видел вчера": Category.INSULT,
    "чтоб ты сдох": Category.INSULT,
    "гори в аду со своими оценками": Category.INSULT,
    "повесься лучше": Category.THREAT,
    "подохни уже": Category.THREAT,
    "высер какой-то, а не статья": Category.RUDE,
    "хрюкало своё закрой": Category.RUDE,
    "блэт, опять дождь": Category.OBSCENE,
    "ну ты и ущербный": Category.INSULT,
}


@pytest.mark.parametrize("text", list(HELD))
def test_new_words_are_held(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is not Action.ALLOW, text
    assert HELD[text] in v.categories, (text, v.categories)


ALLOWED = [
    "купили вату и бинты в медкабинет",
    "совки и веники для дежурных в кабинете 12",
    "посадили укроп и петрушку на пришкольном участке",
    "батарейки в пульте сдохли",
    "телефон сдох на экскурсии",
    "откройте рот, сказал стоматолог",
    "законченный проект сдать до пятницы",
    "мама твоя приходила на собрание",
    "пищевые отбросы выносим в синий бак",
    "в аду у Данте девять кругов",
    "на уроке биологии изучали клопов и вшей",
    "гиена — хищник саванны",
    "скоты и птица на ферме",
    "глисты у котёнка: что делать",
    "ущерб от урагана оценили",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_everyday_senses_pass(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, [(r.matched, r.rule) for r in v.reasons])
