"""How the e-mail channel plugs into the pipeline (listed in hub.components.EVENT_HANDLERS):
an SMTP server when one is configured, the local mailbox otherwise; and the builder of the
one-click unsubscribe links that the pipeline puts on instant messages."""

from __future__ import annotations

from hub.config import Settings
from hub.db import Database
from hub.notify.channel import Channel, ChannelName, NotificationKind
from hub.notify.registry import register_channel, set_unsubscribe_link
from mail.channel import SmtpChannel
from mail.mailbox import MailboxChannel
from mail.tokens import unsubscribe_url


def email_channel(settings: Settings, db: Database) -> Channel:
    if settings.smtp_host:
        return SmtpChannel(settings)
    return MailboxChannel(settings, db)


def unsubscribe_link(settings: Settings, person_id: int, kind: str) -> str | None:
    try:
        return unsubscribe_url(settings, person_id, (NotificationKind(kind),))
    except ValueError:
        return None


def subscribe_handlers() -> None:
    register_channel(ChannelName.EMAIL, email_channel)
    set_unsubscribe_link(unsubscribe_link)
