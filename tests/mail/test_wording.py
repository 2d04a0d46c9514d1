"""The letters read as a Russian school would write them: people greeted by first name and
patronymic, «Срочно» said once, a correction called a correction, and a layout that fits a
phone."""

from __future__ import annotations

import dataclasses
import re

from hub.config import Settings
from hub.names import address_name, address_name_from_full
from hub.notify.channel import NotificationKind
from mail.render import bodies_of, render_message
from tests.mail.conftest import envelope, grade_item


def test_greeting_uses_first_name_and_patronymic(settings: Settings) -> None:
    letter = dataclasses.replace(envelope(), recipient_name="Петрова Милана Константиновна")
    text, html = bodies_of(render_message(letter, settings))
    assert "Здравствуйте, Милана Константиновна!" in text
    assert "Здравствуйте, Милана Константиновна!" in html
    assert "Петрова Милана" not in text
    assert address_name("Милана", "Константиновна", "Петрова") == "Милана Константиновна"
    assert address_name_from_full("Петрова Милана") == "Милана Петрова"


def test_urgent_said_once_in_subject_text_and_html(settings: Settings) -> None:
    item = grade_item(kind=NotificationKind.ANNOUNCEMENTS, title="Отмена уроков", child=None,
                      urgent=True)
    message = render_message(envelope(item), settings)
    text, html = bodies_of(message)
    assert message["Subject"] == "Срочно: Отмена уроков"
    assert len(re.findall("срочно", text, re.IGNORECASE)) == 1
    body = html.split("<body", 1)[1]  # the <title> repeats the subject
    assert len(re.findall("срочно", body, re.IGNORECASE)) == 1


def test_correction_is_called_a_correction(settings: Settings) -> None:
    item = grade_item(title="Исправлена оценка: 4 → 5 по предмету «Математика»")
    text, html = bodies_of(render_message(envelope(item), settings))
    for part in (text, html):
        assert "исправлена оценка" in part and "новая оценка" not in part
        assert "Исправлена оценка: 4 → 5" in part


def test_letter_fits_a_phone_and_names_its_list(settings: Settings) -> None:
    message = render_message(envelope(), settings)
    _text, html = bodies_of(message)
    assert 'width="600"' not in html and "max-width:600px" in html
    assert message["Precedence"] == "bulk"
    assert message["List-Id"] == "Школьный портал <school-hub.127.0.0.1>"
    assert "mailto:" not in message["List-Unsubscribe"]


def test_message_id_and_list_id_domain_is_a_setting(settings: Settings) -> None:
    custom = settings.model_copy(update={"mail_domain": "school1.example.ru"})
    message = render_message(envelope(), custom)
    assert message["Message-ID"].endswith("@school1.example.ru>")
    assert message["List-Id"].endswith("<school-hub.school1.example.ru>")


def test_plain_http_public_url_is_warned_about(settings: Settings) -> None:
    assert any("https" in w for w in settings.model_copy(
        update={"public_url": "http://school.example"}).startup_warnings())
    assert settings.model_copy(
        update={"public_url": "https://school.example"}).startup_warnings() == []
