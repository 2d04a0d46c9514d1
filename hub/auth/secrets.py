"""Random tokens and their stored hashes, and argon2id passwords."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import Invalid

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def use_cheap_hashing() -> None:
    """Tests only: argon2id with minimal cost, so thousands of accounts hash quickly."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    _dummy_hash = None

MIN_PASSWORD_LENGTH = 8


class PasswordRejected(Invalid):
    """A new password the rules do not accept; the message is for a person to read."""


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a throwaway hash when there is no hash to check keeps the timing the
# same either way. Made on first use: hashing costs a third of a second.
_dummy_hash: str | None = None


def burn_password_check(password: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(16))
    verify_password(_dummy_hash, password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches, after exactly one argon2 verification whatever the case
    (no account, no password set yet, a deactivated account): an answer that came back
    early would tell which logins exist and in what state."""
    if not password_hash:
        burn_password_check(password)
        return False
    return verify_password(password_hash, password)


def check_new_password(password: str, login: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов.")
    if password.strip().lower() == login.lower():
        raise PasswordRejected("Пароль не должен совпадать с логином.")
    if len(password) > 256:
        raise PasswordRejected("Пароль слишком длинный (не больше 256 символов).")


def initial_password() -> str:
    """A password an administrator can read out: 12 characters, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))
