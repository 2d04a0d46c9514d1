"""What a parent's mail program gets: multipart/alternative (plain first), Russian text that
survives the trip, headers for one-click unsubscribe, hostile texts made harmless."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest

from hub.config import Settings
from hub.notify.channel import NotificationKind
from mail.render import InvalidAddress, bodies_of, render_message, wire_bytes
from mail.tokens import read_token
from tests.mail.conftest import envelope, grade_item


def parsed(settings: Settings, env) -> email.message.EmailMessage:  # type: ignore[no-untyped-def]
    """As the receiving side sees it: the bytes on the wire, parsed again."""
    raw = wire_bytes(render_message(env, settings))
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_multipart_alternative_plain_text_first(settings: Settings) -> None:
    message = parsed(settings, envelope())
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_russian_text_survives_encoding(settings: Settings) -> None:
    raw = wire_bytes(render_message(envelope(grade_item(body="Диктант «Осень», ошибок нет")),
                                    settings))
    raw.decode("ascii")  # 7-bit on the wire: any relay accepts it
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Оценка 5 по математике — Петров Петя"
    text, html = bodies_of(message)  # type: ignore[arg-type]
    assert "Здравствуйте, Анна Петрова!" in text  # first name first, no patronymic known
    assert "Диктант «Осень», ошибок нет" in text
    assert "Диктант «Осень», ошибок нет" in html
    assert message["To"].addresses[0].display_name == "Петрова Анна"


def test_headers_for_one_click_unsubscribe(settings: Settings) -> None:
    message = parsed(settings, envelope(person_id=42))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = [part.strip().strip("<>") for part in message["List-Unsubscribe"].split(",")]
    [https] = links  # no mailto: nothing would read it
    assert https.startswith(settings.public_url + "/mail/unsubscribe/")
    assert message["Precedence"] == "bulk"
    assert "<school-hub." in message["List-Id"]
    token = https.rsplit("/", 1)[1]
    assert read_token(settings.secret, token).person_id == 42
    assert read_token(settings.secret, token).kinds == (NotificationKind.GRADES,)
    assert message["From"] == settings.mail_from
    assert message["Auto-Submitted"] == "auto-generated"


def test_message_id_unique_per_delivery_and_stable_on_retry(settings: Settings) -> None:
    first = parsed(settings, envelope(delivery_id=10))["Message-ID"]
    again = parsed(settings, envelope(delivery_id=10))["Message-ID"]
    other = parsed(settings, envelope(delivery_id=11))["Message-ID"]
    assert first == again
    assert first != other
    assert first.startswith("<") and first.endswith("@127.0.0.1>")
    other_install = Settings(data_dir=settings.data_dir, secret_key="another-secret-" + "y" * 32)
    assert parsed(other_install, envelope(delivery_id=10))["Message-ID"] != first


def test_hostile_item_text_is_escaped_in_html(settings: Settings) -> None:
    hostile = grade_item(
        title='<img src=x onerror="alert(1)">',
        body="<script>alert('x')</script>\n<a href='http://evil.test'>жми</a>",
        child='"><b>Петя</b>',
        url="javascript:alert(1)",
    )
    text, html = bodies_of(parsed(settings, envelope(hostile)))  # type: ignore[arg-type]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "<a href='http://evil.test'>" not in html
    assert "<b>Петя</b>" not in html
    assert "javascript:" not in html and "javascript:" not in text
    assert "<script>alert('x')</script>" in text  # plain text shows what was written


def test_header_injection_is_impossible(settings: Settings) -> None:
    message = parsed(settings, envelope(grade_item(title="Оценка\r\nBcc: victim@example.test")))
    assert message["Bcc"] is None
    assert "Bcc: victim@example.test" in message["Subject"]


@pytest.mark.parametrize(
    "address", ["", "no-at-sign", "a@b@c.test", "anna@", "@example.test", "anna@example",
                "anna@example.test\r\nBcc: x@y.test", "анна@example.test"],
)
def test_invalid_address_is_a_permanent_failure(settings: Settings, address: str) -> None:
    with pytest.raises(InvalidAddress):
        render_message(envelope(address=address), settings)


def test_cyrillic_domain_is_sent_as_punycode(settings: Settings) -> None:
    message = parsed(settings, envelope(address="anna@школа.рф"))
    assert message["To"].addresses[0].addr_spec == "anna@xn--80atdl2c.xn--p1ai"


def test_kind_templates_say_what_happened(settings: Settings) -> None:
    expected = {
        NotificationKind.GRADES: "новая оценка",
        NotificationKind.ATTENDANCE: "посещаемости",
        NotificationKind.ANNOUNCEMENTS: "объявление",
        NotificationKind.FORUM_REPLIES: "форума",
        NotificationKind.MODERATION: "Модератор",
    }
    for kind, phrase in expected.items():
        text, html = bodies_of(parsed(settings, envelope(grade_item(kind=kind))))  # type: ignore[arg-type]
        assert phrase in text and phrase in html, kind


def test_urgent_announcement_says_so_in_subject(settings: Settings) -> None:
    item = grade_item(kind=NotificationKind.ANNOUNCEMENTS, title="Отмена уроков", child=None,
                      urgent=True)
    assert parsed(settings, envelope(item))["Subject"] == "Срочно: Отмена уроков"


def test_digest_groups_items_per_child(settings: Settings) -> None:
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    items = (
        grade_item("Оценка 4 по русскому языку", child="Петров Петя", created_at=t0),
        grade_item("Отсутствовал на уроке физики", child="Петрова Маша",
                   kind=NotificationKind.ATTENDANCE, created_at=t0 + dt.timedelta(hours=1)),
        grade_item("Оценка 5 по математике", child="Петров Петя",
                   created_at=t0 + dt.timedelta(hours=2)),
        grade_item("Собрание в пятницу", child=None, kind=NotificationKind.ANNOUNCEMENTS,
                   created_at=t0 + dt.timedelta(hours=3)),
    )
    message = parsed(settings, envelope(*items, digest=True))
    assert message["Subject"] == "Сводка за 02.03.2026: 4 уведомления"
    text, html = bodies_of(message)  # type: ignore[arg-type]
    petya, masha, own = (text.index("Ученик: Петров Петя"), text.index("Ученик: Петрова Маша"),
                         text.index("Для вас"))
    assert petya < masha < own
    # both of Petya's grades sit in his section, before Masha's
    assert petya < text.index("Оценка 4 по русскому") < text.index("Оценка 5 по математике") < masha
    assert masha < text.index("Отсутствовал на уроке физики") < own
    assert own < text.index("Собрание в пятницу")
    for title in ("Оценка 4 по русскому языку", "Собрание в пятницу", "Петрова Маша"):
        assert title in html
    token = message["List-Unsubscribe"].split(",")[0].strip("<> ").rsplit("/", 1)[1]
    assert set(read_token(settings.secret, token).kinds) == {
        NotificationKind.GRADES, NotificationKind.ATTENDANCE, NotificationKind.ANNOUNCEMENTS,
    }
