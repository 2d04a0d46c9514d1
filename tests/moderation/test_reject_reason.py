"""The queue's rejection reason starts from what the detector found, not always from
«Оскорбление участников»."""

from __future__ import annotations

from moderation.queue import REJECT_REASONS
from moderation.web import default_reason


def test_default_reason_follows_the_category() -> None:
    assert default_reason(["obscene", "insult"]) == "Нецензурная лексика"
    assert default_reason(["insult"]) == "Оскорбление участников"
    assert default_reason(["rude"]) == "Грубость и неуважительный тон"
    assert default_reason(["watched"]) == ""
    assert {default_reason([c]) for c in ("obscene", "insult", "rude")} <= set(REJECT_REASONS)
