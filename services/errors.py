"""Domain errors. Each has a code and a user message (a gettext msgid with parameters).

DomainError
├── InvalidInput        the person typed something we cannot use
├── NotFound            unknown code, number or item
├── NotAllowed          the person lacks the role or owns nothing here
├── Conflict            the thing changed meanwhile (sold, redeemed, expired)
└── LimitReached        too many tries, budget used up
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, /, **params: Any) -> None:
        super().__init__(message)
        self.message = message  # a msgid, translated when shown
        self.params = params
        # True when what the use case did so far must be kept despite the error
        # (a counted failed attempt); otherwise the caller rolls everything back.
        self.keep_changes = False

    def keeping_changes(self) -> DomainError:
        self.keep_changes = True
        return self


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    code = "not_allowed"


class Conflict(DomainError):
    code = "conflict"


class LimitReached(DomainError):
    code = "limit"
