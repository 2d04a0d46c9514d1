"""What the hub is made of: the composition root's lists.

The kernel never imports a feature package; this module, hub.web.app and hub.cli do.
"""

from __future__ import annotations

import importlib

# Modules with `setup(app: aiohttp.web.Application) -> None` adding routes and nav items.
WEB_COMPONENTS: tuple[str, ...] = (
    "hub.http.api",  # first: the others describe their endpoints in its OpenAPI document
    "hub.web.account",
    "hub.web.live",
    "hub.web.admin",  # administration pages (issue 2)
    "hub.web.admin_api",  # the administration's JSON API (issue 2)
    "hub.web.journal",
    "hub.web.children",
    "bots.web",  # telegram: the profile's Telegram page and the webhook
    "moderation.web",  # moderation: the flagged queue, watched words, audit log
    "hub.notify.web",  # notifications: the in-app list, settings, delivery log, worker
    "mail.unsubscribe",  # mail: the one-click unsubscribe endpoint
    "mail.admin",  # mail: the local mailbox for administrators
    "forum.web",  # forum: the notice board and the forum
)

# Modules whose import registers tables on hub.db.Base.metadata.
MODEL_MODULES: tuple[str, ...] = (
    "hub.school",
    "hub.auth.models",
    "hub.notify.preferences",
    "hub.notify.addresses",
    "hub.journal",
    "moderation.models",  # moderation: review queue, reports, watched words, audit
    "bots.models",  # telegram: link codes, processed updates, the polling lease
    "hub.notify.models",  # notifications: the outbox (notifications, deliveries)
    "mail.mailbox",  # mail: the local mailbox (e-mail kept when no SMTP is configured)
    "forum.models",  # forum: announcements, sections, topics, posts
)

# Modules with a `PRIVACY` object (hub.privacy.PersonalDataSource): export and erasure.
PRIVACY_SOURCES: tuple[str, ...] = (
    "bots.privacy",  # telegram: link codes
    "hub.notify.privacy",  # notifications: a person's notifications and deliveries
    "mail.privacy",  # mail: letters kept in the local mailbox
    "forum.privacy",  # forum: announcements, posts, acknowledgements
    "moderation.privacy",  # moderation: reports made, sanctions received
    "hub.journal",  # journal: a student's grades and attendance
)


# Modules with `subscribe_handlers() -> None` subscribing to hub.events.
EVENT_HANDLERS: tuple[str, ...] = (
    "bots.wiring",  # telegram: registers the Telegram channel
    "mail.wiring",  # mail: registers the e-mail channel and the unsubscribe links
    "hub.notify.handlers",  # notifications: grades, attendance, moderation decisions
    "forum.wiring",  # forum: the queue's targets; announcement and reply notifications
)


def load_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def subscribe_handlers() -> None:
    """Subscribe every event handler (idempotent); every process calls it at start."""
    load_models()
    for name in EVENT_HANDLERS:
        importlib.import_module(name).subscribe_handlers()
