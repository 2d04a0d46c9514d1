"""Rendering an Envelope into an e-mail: multipart/alternative, plain text first, then HTML,
from the Russian templates in mail/templates/mail/email/ (one per kind, one for digests).

Item texts are as people wrote them: the HTML part autoescapes them, links other than
http(s) are dropped, and header values lose their line breaks. The Message-ID is stable
for a delivery (the same delivery retried carries the same id, so a receiving server and
the tests can recognise a repeat) and unique across deliveries and installations.

Every message offers one-click unsubscribe (RFC 8058: List-Unsubscribe and the footer's
link), made here from the envelope's person and the kinds its items are of: the e-mail
channel owns its links, the pipeline and other channels never see them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from hub import clock
from hub.config import Settings
from hub.names import address_name_from_full
from hub.notify.channel import (
    KIND_TITLES,
    Envelope,
    Item,
    NotificationKind,
    PermanentFailure,
)
from mail.tokens import unsubscribe_url
from mail.wire import OutgoingMessage, address_header, sender_header, text_header

TEMPLATES = Path(__file__).parent / "templates"
MAX_SUBJECT = 200
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Headers set with set_raw (List-Unsubscribe: a long URL) stay as they are instead of
# being folded into encoded words that mail clients would not recognise as a URL.
MAIL_POLICY = policy.default.clone(refold_source="none")
WIRE_POLICY = MAIL_POLICY.clone(linesep="\r\n")


class InvalidAddress(PermanentFailure):
    """The recipient's address cannot be an e-mail address: never try it again."""


@dataclass(frozen=True)
class Section:
    title: str
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class Group:
    title: str
    sections: list[Section]


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # the templates ship with the code: no stat of the file per message
)


def recipient_address(name: str, address: str) -> Address:
    """The To: address, or InvalidAddress."""
    address = address.strip()
    if not address or _CONTROL.search(address) or address.count("@") != 1:
        raise InvalidAddress("invalid e-mail address")
    local, domain = address.split("@")
    if not local.isascii():  # would need SMTPUTF8 from every relay on the way
        raise InvalidAddress("non-ASCII mailbox name")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidAddress("invalid e-mail domain") from exc
        address = f"{local}@{domain}"
    if not local or not domain or ("." not in domain.strip(".") and domain != "localhost"):
        raise InvalidAddress("invalid e-mail address")
    try:
        parsed = Address(display_name=header_text(name, 100), addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise InvalidAddress("invalid e-mail address") from exc
    if parsed.addr_spec != address:
        raise InvalidAddress("invalid e-mail address")
    return parsed


def header_text(value: str, limit: int = MAX_SUBJECT) -> str:
    """A header value a person wrote: one line, bounded."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def plural(count: int, one: str, few: str, many: str) -> str:
    tail = count % 100
    if 11 <= tail <= 14:
        return many
    if count % 10 == 1:
        return one
    if 2 <= count % 10 <= 4:
        return few
    return many


def mail_domain(settings: Settings) -> str:
    """The domain the hub's letters name themselves by (Message-ID, List-Id)."""
    return settings.mail_domain or urlsplit(settings.public_url).hostname or "school-hub.local"


def list_id(settings: Settings) -> str:
    """RFC 2919 List-Id: «Школьный портал <school-hub.school.example>»."""
    return f"Школьный портал <{settings.mail_list_name}.{mail_domain(settings)}>"


def list_id_header(settings: Settings) -> str:
    """List-Id as written on the wire: the Cyrillic phrase as encoded words, the id as is."""
    return _list_id_header(list_id(settings))


@functools.lru_cache(maxsize=16)  # one list per deployment
def _list_id_header(value: str) -> str:
    phrase, _, rest = value.partition(" <")
    return f"{text_header('List-Id', phrase)} <{rest}"


@functools.lru_cache(maxsize=4096)
def _to_header(name: str, address: str) -> tuple[str, str]:
    """The addr-spec and To: header of a recipient (InvalidAddress when it cannot be one),
    worked out once for the many messages a parent receives."""
    to = recipient_address(name, address)
    return to.addr_spec, address_header(to)


def message_id(settings: Settings, delivery_id: int) -> str:
    domain = mail_domain(settings)
    if delivery_id <= 0:
        return make_msgid("hub", domain=domain)
    tag = hmac.new(settings.secret, f"message-id:{delivery_id}".encode(), hashlib.sha256)
    return f"<hub.{delivery_id}.{tag.hexdigest()[:16]}@{domain}>"


def subject_of(envelope: Envelope, settings: Settings) -> str:
    items = envelope.items
    if envelope.digest:
        latest = max(item.created_at for item in items).astimezone(settings.tz)
        count = len(items)
        word = plural(count, "уведомление", "уведомления", "уведомлений")
        return f"Сводка за {latest:%d.%m.%Y}: {count} {word}"
    if len(items) == 1:
        item = items[0]
        subject = item.title
        if item.child_name:
            subject = f"{subject} — {item.child_name}"
        if item.urgent and not subject.lower().startswith("срочно"):
            subject = f"Срочно: {subject}"
        return header_text(subject)
    return f"Уведомления школьного портала ({len(items)})"


def _item_context(item: Item) -> dict[str, Any]:
    return {
        "title": item.title,
        "body": item.body,
        "url": safe_url(item.url),
        "child_name": item.child_name,
        "urgent": item.urgent,
        "kind": item.kind,
    }


def digest_groups(items: tuple[Item, ...]) -> list[Group]:
    """Items per child (in order of first appearance; the person's own last), then per
    kind in the kinds' order, oldest first."""
    by_child: dict[str | None, list[Item]] = {}
    for item in sorted(items, key=lambda i: i.created_at):
        by_child.setdefault(item.child_name, []).append(item)
    order: list[str | None] = [name for name in by_child if name is not None]
    if None in by_child:
        order.append(None)
    groups = []
    for name in order:
        sections = []
        for kind in NotificationKind:
            kind_items = [_item_context(i) for i in by_child[name] if i.kind is kind]
            if kind_items:
                sections.append(Section(KIND_TITLES[kind].capitalize(), kind_items))
        title = f"Ученик: {name}" if name else "Для вас"
        groups.append(Group(title, sections))
    return groups


def _bodies(envelope: Envelope, subject: str, unsubscribe: str | None) -> tuple[str, str]:
    context: dict[str, Any] = {
        "recipient_name": address_name_from_full(envelope.recipient_name),
        "subject": subject,
        "unsubscribe_url": unsubscribe,
        "grouped": envelope.digest,
    }
    if envelope.digest:
        count = len(envelope.items)
        context |= {
            "groups": digest_groups(envelope.items),
            "count": count,
            "count_word": plural(count, "уведомление", "уведомления", "уведомлений"),
        }
        name = "digest"
    else:
        context["items"] = [_item_context(i) for i in envelope.items]
        name = envelope.items[0].kind.value
    text = _env.get_template(f"mail/email/{name}.txt").render(context)
    html = _env.get_template(f"mail/email/{name}.html").render(context)
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n", html


def render_message(
    envelope: Envelope, settings: Settings, *, now: dt.datetime | None = None
) -> EmailMessage:
    """The e-mail for `envelope`; InvalidAddress when its address cannot receive mail."""
    if not envelope.items:
        raise ValueError("an envelope without items")
    recipient, to = _to_header(envelope.recipient_name, envelope.address)
    # One-click unsubscribe (RFC 8058) from what this message is about: the kind of an
    # instant message, every kind a digest gathers.
    kinds = tuple(sorted({item.kind for item in envelope.items}))
    unsubscribe = unsubscribe_url(settings, envelope.person_id, kinds)
    subject = subject_of(envelope, settings)
    text, html = _bodies(envelope, subject, unsubscribe)
    own_id = message_id(settings, envelope.delivery_id)

    headers = [
        ("From", sender_header(settings.mail_from)),
        ("To", to),
        ("Subject", text_header("Subject", subject)),
        ("Date", format_datetime(now or clock.now())),
        ("Message-ID", own_id),
        # Only the one-click link (no mailbox reads a mailto unsubscribe); kept whole, not
        # folded into encoded words a mail client would not read as a URL.
        ("List-Unsubscribe", f"<{header_text(unsubscribe, 900)}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("List-Id", list_id_header(settings)),
        ("Precedence", "bulk"),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Hub-Delivery", str(envelope.delivery_id)),
    ]
    # Base64 keeps the message 7-bit (any relay takes it) and is compact for Cyrillic
    # (mail.wire writes it out without the email package's generator).
    return OutgoingMessage(headers, _lines(text), _lines(html), recipient=recipient,
                           message_id=own_id)


def _lines(body: str) -> str:
    """Line ends as the email package would store them: LF, one at the end."""
    body = body.replace("\r\n", "\n")
    return body if body.endswith("\n") else body + "\n"


def sender_address(settings: Settings) -> str:
    """The envelope sender (MAIL FROM): the address part of settings.mail_from."""
    return parseaddr(settings.mail_from)[1] or "noreply@school.local"


def recipient_of(message: EmailMessage) -> str:
    """The address a message goes to (RCPT TO): its To: address."""
    if isinstance(message, OutgoingMessage):
        return message.recipient
    return str(message["To"].addresses[0].addr_spec)


def message_id_of(message: EmailMessage) -> str:
    if isinstance(message, OutgoingMessage):
        return message.message_id
    return str(message["Message-ID"])


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes over SMTP (CRLF line ends, 7-bit)."""
    if isinstance(message, OutgoingMessage):
        return message.wire
    return message.as_bytes(policy=WIRE_POLICY)


def bodies_of(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of a rendered message."""
    if isinstance(message, OutgoingMessage):
        return message.text, message.html
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return (
        text.get_content() if text is not None else "",
        html.get_content() if html is not None else "",
    )
