"""The shipped model: small, scored independently of length, and no word the everyday
school vocabulary uses flags a message on its own."""

from __future__ import annotations

import pytest

from moderation import Action, Detector
from moderation.model import MODEL_PATH, default_model, word_features


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


def test_the_shipped_model_is_small() -> None:
    assert MODEL_PATH.stat().st_size < 500_000
    model = default_model()
    assert model is not None and len(model.weights) < 60_000


def test_a_repeated_clean_announcement_does_not_drift(det: Detector) -> None:
    once = ("Уважаемые родители! Завтра в 18:00 родительское собрание в кабинете 21. "
            "Просьба не опаздывать. ")
    scores = [det.check(once * k).model_score for k in (1, 5, 20, 80)]
    assert max(scores) - min(scores) < 0.05
    assert all(det.check(once * k).action is Action.ALLOW for k in (1, 5, 20, 80))


def test_every_word_has_a_feature_even_a_short_one() -> None:
    model = default_model()
    assert model is not None
    for word in ("и", "ну", "класс", "контрольная"):
        assert model.word_contribution(word)[1] == len(word_features(word, model.orders))
        assert model.word_contribution(word)[1] >= 1


@pytest.mark.parametrize("text", [
    "стало только хуже после ремонта дороги",
    "наука не стоит на месте, говорит учитель физики",
    "хуже некуда с этим расписанием автобусов",
    "Так вот ты какая, наша новая учительница музыки",
])
def test_words_the_model_alone_used_to_flag_pass(det: Detector, text: str) -> None:
    assert det.check(text).action is Action.ALLOW
