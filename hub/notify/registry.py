"""The channel registry: which channels this deployment can send through.

A channel package registers a factory from its wiring hook (a module listed in
hub.components.EVENT_HANDLERS whose `subscribe_handlers()` calls `register_channel`); the
worker builds the channels at start. The kernel never imports a channel.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.config import Settings
from hub.db import Database
from hub.notify.channel import Channel, ChannelName

ChannelFactory = Callable[[Settings, Database], Channel | None]

_factories: dict[ChannelName, ChannelFactory] = {}


def register_channel(name: ChannelName, factory: ChannelFactory) -> None:
    """Register (or replace) the factory of a channel. A factory may return None when the
    channel is not configured (no bot token): its deliveries then wait."""
    _factories[ChannelName(name)] = factory


def unregister_channel(name: ChannelName) -> None:
    _factories.pop(ChannelName(name), None)


def registered() -> dict[ChannelName, ChannelFactory]:
    return dict(_factories)


def build_channels(settings: Settings, db: Database) -> dict[ChannelName, Channel]:
    channels: dict[ChannelName, Channel] = {}
    for name, factory in _factories.items():
        channel = factory(settings, db)
        if channel is not None:
            channels[name] = channel
    return channels


# The one-click unsubscribe link of an instant message (RFC 8058): the mail package owns
# the endpoint and its signed token, so it provides the builder.
UnsubscribeLink = Callable[[Settings, int, str], str | None]  # (settings, person id, kind)
_unsubscribe_link: UnsubscribeLink | None = None


def set_unsubscribe_link(builder: UnsubscribeLink | None) -> None:
    global _unsubscribe_link
    _unsubscribe_link = builder


def unsubscribe_link(settings: Settings, person_id: int, kind: str) -> str | None:
    return _unsubscribe_link(settings, person_id, kind) if _unsubscribe_link else None
