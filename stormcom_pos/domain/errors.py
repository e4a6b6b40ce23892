"""The root of every business-rule error, with a stable machine code for APIs and the UI."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused something. ``code`` is stable; the message is for people."""

    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
