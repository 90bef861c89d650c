"""One error hierarchy, mapped once to HTTP (web.py) and once to socket `error` frames (realtime)."""

from __future__ import annotations

from typing import Any


class CollabError(Exception):
    """A refusal a client should see: `code` is the wire code, `status` the HTTP status."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class BadFrame(CollabError):
    code, status = "bad_frame", 400


class UnknownOp(CollabError):
    code, status = "unknown_op", 400


class Invalid(CollabError):
    code, status = "invalid", 422


class NotFound(CollabError):
    code, status = "not_found", 404


class Forbidden(CollabError):
    code, status = "forbidden", 403


class Unauthenticated(CollabError):
    code, status = "unauthenticated", 401


class Conflict(CollabError):
    code, status = "conflict", 409


class RateLimited(CollabError):
    code, status = "rate_limited", 429

    def __init__(self, message: str, *, retry_after: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, extra=extra)
        self.retry_after = retry_after


class TooLarge(CollabError):
    code, status = "too_large", 413


class Unavailable(CollabError):
    """The database or broker is down for now: nothing was changed; retry (with the same key)."""

    code, status = "unavailable", 503


ERROR_CODES = tuple(
    cls.code
    for cls in (BadFrame, UnknownOp, NotFound, Forbidden, Unauthenticated, Invalid, Conflict,
                RateLimited, TooLarge, Unavailable)
)
