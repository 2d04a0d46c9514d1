"""Kinds of abuse that real comments showed the detector missing, added in its fourth round:
masks read letter by letter, threats aimed by their object, more slurs and insults of a
person, sexual humiliation, "shut your mouth" and death wishes; each beside everyday
sentences that use the same words."""

from __future__ import annotations

import pytest

from moderation import Action, Category, Detector


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


def _reasons(v) -> list[tuple[str, str]]:
    return [(r.matched, r.rule) for r in v.reasons]


# --- masks that hide a letter the common words do not explain ----------------------------
MASKED = [
    "совсем ебн*лись там наверху",
    "ебну*ись они все",
    "ну ты и бл@ть",  # @ for я, not а or о
    "охуе**ть можно с такими ценами",
    "к*зел ты",  # a weak word, masked and aimed
    "пост для долб...в",  # dots for letters in an inflected form
    "ну ты и му..ило",  # dots for a letter of a form no common word explains
]


@pytest.mark.parametrize("text", MASKED)
def test_masked_letters_are_read(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.HOLD, text
    assert any(r.rule.startswith("masked:") for r in v.reasons), _reasons(v)


MASK_LOOKALIKES = [
    "мой адрес: иван@школа.рф, пишите",
    "Оценка 5* за контрольную — это отлично",
    "**Важно:** принести сменную обувь",
    "Ох...а ведь правда, забыла про собрание",  # an ellipsis after a whole word
    "Ну...а потом поговорим",
    "Иванова Н.Н. ведёт урок в 5 «Б»",  # initials are not a masked word
    "#школа #праздник",
    "Если я воспользуюсь своим ИП.то для меня это плохо закончится",  # a missing space
    "я изменил своё отношение к нему.и как показало время, не ошибся",
    "Ну и т.д., т.е. всё как обычно",
    "Я даже с О.А. поссорилась из-за этого",  # initials
]


# --- threats: aimed by their object, not their subject ------------------------------------
THREATS = [
    "повешу тебя на первом же столбе",
    "таких грохнуть мало",
    "казнить гада",  # an insult as the object
    "когда его уже расстреляют",
    "стрелять надо всех этих думцев",
    "руки вырвать тому, кто это писал",
    "таким вандалам надо ручонки отрубать",
    "бошки отрезать таким",
    "всех на кол",
    "давить их как гнид",
    "вешать за яйца таких",
    "рострелять надо обоих",  # misspelt
]


THREAT_LOOKALIKES = [
    "Вы можете повесить объявление на доску у входа",  # вы is the subject
    "Распечатайте плакат и повесьте его на стену",
    "Нужно повесить его рисунок на стенд",
    "Не могу оторвать его от телефона",
    "Надо было посадить его за первую парту",
    "Не стоит на всех вешать ярлыки",
    "Давайте убьём двух зайцев одним выстрелом",
    "Вы хотите убить время до урока? Приходите в библиотеку",
    "давить на педаль тормоза",
    "Сухие листья нельзя сжечь на территории школы",
    "Не забудьте мочить кисточку перед рисованием акварелью",
    "Зуб мудрости пришлось вырвать, поэтому Саша не придёт",
    "Нужно отрезать кусок ленты длиной 20 см",
    "Не надо отрывать руки от парты, пишите аккуратно",
    "В 1937 году многих расстреляли — тема урока истории",
]


# --- insults of a person, slurs ------------------------------------------------------------
INSULTS = [
    "эта свиноматка опять орёт под окнами",
    "чепушило, иди учи уроки",
    "дармоеды в управе опять ничего не сделали",
    "майданутые опять набежали",
    "ну ты и погань",
    "скатина неблагодарная",
    "ну и холуй",
    "полудурок какой-то писал",
    "лизоблюды начальства",
    "такие шутки только пидоры себе позволяют",  # себе is theirs, not the writer's
    "какая же эта сука, решила себя показать",  # and so is a later себя
    "Лера падла!!! Уезжает, я буду скучать",  # я is in the next sentence
    "Вы только посмотрите, что пишут. Неучи!",  # a sentence of its own
    "ты что, совсем тупой?",
    "менты казлы",
    "опять жыды виноваты",
    "у тебя даунский юмор",
    "росбыдло опять голосует",
    "сколько знаю людей, а ты ушлепак",
    "не буду спорить с тупой бабой",
    "ты же пугало огородное",
]


INSULT_LOOKALIKES = [
    "Северный олень живёт в тундре",
    "Мы видели оленя в зоопарке",
    "Железорудные окатыши производят на Лебединском ГОКе",
    "Украшения для класса купим в пятницу",
    "Лиза заболела, домашнее задание передам",
    "Члены родительского комитета соберутся в среду",
    "У жука длинные усики — рассмотрите их в лупу",
    "Права гомосексуалов — тема дебатов в 11 классе",
    "Пипец, опять контрольная по физике",  # a minced oath, like «блин»
    "я вёл себя как дурак, извините",  # the writer about himself
    "Полицейский с дубинкой — персонаж сказки",
    "Пугало в огороде отпугивает ворон",
    "Питер — красивый город, едем на экскурсию",
    "Аманда и Хёрст — герои книги, которую читаем в 8 классе",  # names
]


# --- sexual humiliation, "shut your mouth", death wishes -----------------------------------
PHRASES = {
    "засунь себе своё мнение": Category.INSULT,
    "закрой пасть": Category.INSULT,
    "захлопни варежку, умник": Category.INSULT,
    "закрой свой рот": Category.INSULT,
    "закрыл бы ты пасть": Category.INSULT,
    "этот мальчик хочет в очко": Category.INSULT,
    "полижи ему зад": Category.INSULT,
    "пусть сдохнет": Category.INSULT,
    "да чтоб они все передохли": Category.INSULT,
    "подавись своим ядом": Category.RUDE,
    "не хрюкай тут": Category.RUDE,
}
HELD = {**dict.fromkeys(THREATS, Category.THREAT), **dict.fromkeys(INSULTS, Category.INSULT),
        **PHRASES}


@pytest.mark.parametrize("text", list(HELD))
def test_abuse_is_held_as_its_kind(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.HOLD, text
    assert HELD[text] in v.categories, _reasons(v)


PHRASE_LOOKALIKES = [
    "Член родительского комитета соберёт деньги на экскурсию",
    "Ребёнок упал на попу, ничего страшного, медсестра осмотрела",
    "Укол в попу делают в процедурном кабинете",
    "Очко в баскетболе засчитывается, если мяч попал в кольцо",
    "Лев открыл пасть и зарычал — это из рассказа Толстого",
    "Кошка любит лизать сметану",
    "Закройте рот, когда жуёте, — правило этикета в столовой",
    "Прикрой свой рот, когда чихаешь",
    "Ребёнок может засунуть в рот мелкие детали конструктора",
    "Засуньте сменку в пакет и подпишите его",
    "Чтобы рыбки не сдохли, меняйте воду в аквариуме",
    "Пусть цветы не засохнут, полейте их",
    "Подавиться косточкой опасно, будьте внимательны",
    "Вставить в рамку и повесить на стену",
]


# --- rules that talk about such words -------------------------------------------------------
RULES_ABOUT_WORDS = [
    "Сообщения с призывами убить, повесить или расстрелять кого-либо удаляются.",
    "Оскорбления по национальному признаку (например, «чурка», «хохол») запрещены.",
    "Не допускаются выражения вроде «закрой рот» и «заткнись».",
    "Если вам пишут «сдохни» или «убью», сообщите модератору.",
]


def test_a_call_to_kill_is_not_a_rule_about_one(det: Detector) -> None:
    assert det.check("я призываю расстрелять их").action is Action.HOLD


@pytest.mark.parametrize("text", [*MASK_LOOKALIKES, *THREAT_LOOKALIKES, *INSULT_LOOKALIKES,
                                  *PHRASE_LOOKALIKES, *RULES_ABOUT_WORDS])
def test_everyday_sentences_with_the_same_words_pass(det: Detector, text: str) -> None:
    v = det.check(text)
    assert v.action is Action.ALLOW, (text, _reasons(v))
