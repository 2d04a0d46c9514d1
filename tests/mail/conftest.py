"""Fixtures of the mail tests: the SMTP sink, an envelope factory."""

from __future__ import annotations

import pytest

from hub import clock
from hub.notify.channel import Envelope, Item, NotificationKind
from tests.support.smtp import smtp_sink  # noqa: F401  (the fixture)

_ids = iter(range(1, 1_000_000))


def grade_item(title: str = "Оценка 5 по математике", body: str = "Контрольная работа",
               child: str | None = "Петров Петя", **kwargs: object) -> Item:
    return Item(
        kind=kwargs.pop("kind", NotificationKind.GRADES),  # type: ignore[arg-type]
        title=title, body=body, url=kwargs.pop("url", "http://127.0.0.1:8080/children"),  # type: ignore[arg-type]
        created_at=kwargs.pop("created_at", clock.now()),  # type: ignore[arg-type]
        child_name=child, **kwargs,  # type: ignore[arg-type]
    )


def envelope(*items: Item, address: str = "anna@example.test", person_id: int = 3,
             digest: bool = False, delivery_id: int | None = None) -> Envelope:
    return Envelope(
        delivery_id=delivery_id if delivery_id is not None else next(_ids),
        person_id=person_id, recipient_name="Петрова Анна", address=address,
        items=items or (grade_item(),), digest=digest,
    )


@pytest.fixture
def make_envelope():  # type: ignore[no-untyped-def]
    return envelope
