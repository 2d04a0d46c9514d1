"""What the hub is made of: the composition root's lists.

The kernel never imports a feature package; this module, hub.web.app and hub.cli do.
"""

from __future__ import annotations

import importlib

# Modules with `setup(app: aiohttp.web.Application) -> None` adding routes and nav items.
WEB_COMPONENTS: tuple[str, ...] = (
    "hub.web.api",  # first: the others describe their endpoints in its OpenAPI document
    "hub.web.account",
    "hub.web.live",
)

# Modules whose import registers tables on hub.db.Base.metadata.
MODEL_MODULES: tuple[str, ...] = (
    "hub.school",
    "hub.auth.models",
    "hub.notify.preferences",
    "hub.notify.addresses",
)

# Modules with a `PRIVACY` object (hub.privacy.PersonalDataSource): export and erasure.
PRIVACY_SOURCES: tuple[str, ...] = ()


# Modules with `subscribe_handlers() -> None` subscribing to hub.events.
EVENT_HANDLERS: tuple[str, ...] = ()


def load_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def subscribe_handlers() -> None:
    """Subscribe every event handler (idempotent); every process calls it at start."""
    load_models()
    for name in EVENT_HANDLERS:
        importlib.import_module(name).subscribe_handlers()
