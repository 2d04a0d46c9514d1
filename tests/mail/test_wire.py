"""The wire form written by mail.wire: what a receiving server parses is what the email
package would have made, for long Cyrillic subjects and display names too."""

from __future__ import annotations

import email
from email import policy

from hub.config import Settings
from mail.render import bodies_of, render_message, wire_bytes
from tests.mail.conftest import envelope, grade_item


def test_a_long_cyrillic_subject_and_sender_survive_the_wire(settings: Settings) -> None:
    settings = settings.model_copy(update={"mail_from": "Школа № 1 <noreply@school.example>"})
    title = "Очень длинная тема письма " * 8
    rendered = render_message(envelope(grade_item(title=title, body="строка\r\nещё")), settings)
    raw = wire_bytes(rendered)
    raw.decode("ascii")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert str(parsed["Subject"]).startswith(" ".join(title.split())[:150])
    assert str(parsed["From"]) == "Школа № 1 <noreply@school.example>"
    assert parsed["To"].addresses[0].addr_spec == rendered["To"].addresses[0].addr_spec
    assert parsed["Message-ID"] == rendered["Message-ID"]
    assert bodies_of(parsed) == bodies_of(rendered)  # type: ignore[arg-type]
    assert "строка\nещё" in bodies_of(parsed)[0]  # type: ignore[arg-type]
