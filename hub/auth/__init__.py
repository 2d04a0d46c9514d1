"""Accounts and access: passwords (argon2id), sessions, API tokens, and the access rules."""

from hub.auth.access import (
    EVERYWHERE,
    AccessDenied,
    Action,
    Principal,
    TokenScope,
    can,
    classes_for,
    load_principal,
    require,
)

__all__ = [
    "EVERYWHERE",
    "AccessDenied",
    "Action",
    "Principal",
    "TokenScope",
    "can",
    "classes_for",
    "load_principal",
    "require",
]
