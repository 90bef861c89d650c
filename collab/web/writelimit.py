"""A per-client limit on HTTP writes (POST, PUT, PATCH, DELETE), answered with 429."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from collab.limits import KeyedLimiter

from .errors import error_response

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class WriteRateLimitMiddleware:
    """Keyed on the client address: a made-up credential must not buy a fresh allowance."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limiter = KeyedLimiter(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WRITES and self.limiter.limit:
            key = client_address(scope)
            if not self.limiter.hit(key):
                wait = self.limiter.retry_after(key)
                response = error_response(Request(scope), 429, "rate_limited",
                                          f"too many writes; retry in {wait} s")
                response.headers["retry-after"] = str(wait)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
