"""The invitation letter: the login and the link that sets a password, sent when an
administrator issues an account by invitation to a person with an e-mail address.

Sent at once through the e-mail channel's SMTP settings (not the notification outbox: an
invitation is not a notification, has no unsubscribe and goes to someone who may have no
preferences yet). Without SMTP the administrator passes the link on by hand, as before.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import format_datetime

from hub import clock
from hub.config import Settings
from hub.names import address_name
from hub.notify.channel import PermanentFailure, TemporaryFailure
from mail.render import MAIL_POLICY, message_id, recipient_address

log = logging.getLogger(__name__)


def invitation_text(greeting: str, login: str, link: str, school: str = "") -> str:
    where = f" школы «{school}»" if school else ""
    return (
        f"Здравствуйте, {greeting}!\n\n"
        f"Для вас создана учётная запись в школьном портале{where}.\n\n"
        f"Ваш логин: {login}\n\n"
        "Чтобы задать пароль и войти, откройте ссылку (она действует 7 дней):\n"
        f"{link}\n\n"
        "Если вы не ждали этого письма, просто не открывайте ссылку.\n\n"
        "--\nЭто письмо отправлено автоматически школьным порталом."
    )


def invitation_message(
    settings: Settings, *, first_name: str, middle_name: str | None, last_name: str,
    address: str, login: str, link: str,
) -> EmailMessage:
    full = " ".join(p for p in (last_name, first_name, middle_name) if p)
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = settings.mail_from
    message["To"] = recipient_address(full, address)
    message["Subject"] = "Приглашение в школьный портал: ваш логин и ссылка для входа"
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(settings, 0)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        invitation_text(address_name(first_name, middle_name, last_name), login, link),
        subtype="plain", charset="utf-8", cte="base64",
    )
    return message


async def send_invitation(settings: Settings, message: EmailMessage) -> bool:
    """Send at once; False (and a log line without personal data) when it did not go."""
    if not settings.smtp_host:
        return False
    from mail.channel import SmtpChannel  # the SMTP client only when there is a server

    channel = SmtpChannel(settings)
    try:
        await channel.send_message(message)
        return True
    except (TemporaryFailure, PermanentFailure, OSError) as exc:
        log.warning("invitation e-mail not sent: %s", type(exc).__name__)
        return False
    finally:
        await channel.aclose()
