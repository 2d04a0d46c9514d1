"""Moderation notices tell the author which message, in which topic, quote its start, link
to it, call a topic a topic and say when a moderator edited the text."""

from __future__ import annotations

from hub.events import ModerationDecided
from hub.notify.handlers import decision_texts


def _event(**kwargs: object) -> ModerationDecided:
    return ModerationDecided(school_id=1, review_item_id=1, author_id=2,  # type: ignore[arg-type]
                             **kwargs)


def test_approved_reply_names_topic_quotes_and_says_it_was_edited() -> None:
    title, body = decision_texts(_event(
        decision="approved", kind="post", title="Экскурсия в музей",
        excerpt="Кто поедет в пятницу?", url="/forum/topics/3#post-9", edited=True))
    assert title == "Ваш ответ в теме «Экскурсия в музей» опубликован"
    assert "Перед публикацией модератор исправил текст." in body
    assert "«Кто поедет в пятницу?»" in body


def test_rejected_topic_is_a_topic_with_the_reason() -> None:
    title, body = decision_texts(_event(
        decision="rejected", kind="topic", title="Экскурсия", reason="Оскорбление участников",
        excerpt="Текст"))
    assert title == "Ваша тема «Экскурсия» отклонена модератором"
    assert body.startswith("Причина: Оскорбление участников")
    assert "исправил" not in body
