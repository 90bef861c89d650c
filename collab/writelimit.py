"""A per-client limit on HTTP writes (POST, PUT, PATCH, DELETE), answered with 429."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from collab.ratelimit import KeyedLimiter

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class WriteRateLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limiter = KeyedLimiter(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WRITES and self.limiter.limit:
            headers = dict(scope.get("headers") or [])
            who = headers.get(b"authorization") or str(scope.get("session", {}).get("user_id"))
            client = scope.get("client") or ("?", 0)
            key = f"{client[0]}:{who!s}"
            if not self.limiter.hit(key):
                from starlette.requests import Request

                from collab.web import error_response

                response = error_response(
                    Request(scope), 429, "rate_limited",
                    f"too many writes; retry in {self.limiter.retry_after(key)} s")
                response.headers["retry-after"] = str(self.limiter.retry_after(key))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
