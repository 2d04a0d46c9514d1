"""What the forum's services refuse, each with a message a person can read."""

from __future__ import annotations


class ForumError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(ForumError):
    """The form is wrong (empty title, text too long, unknown section...)."""

    status = 422


class Refused(ForumError):
    """Moderation refused the text at once; the author is told why."""

    status = 422


class NotFound(ForumError):
    status = 404


class Conflict(ForumError):
    status = 409


class TooLarge(ForumError):
    status = 413
