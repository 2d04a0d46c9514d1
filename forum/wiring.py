"""The forum's wiring hook (hub.components.EVENT_HANDLERS): the moderators' queue learns
the board's and the forum's targets, and the notification pipeline hears their events."""

from __future__ import annotations

from forum import notifications, targets


def subscribe_handlers() -> None:
    """Idempotent: every process calls it at start-up."""
    targets.register_targets()
    notifications.subscribe_handlers()
