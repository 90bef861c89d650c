"""Loads the signed-in user of a page request once, for handlers and templates alike."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .models import User


class SessionUserMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(("/static/", "/api/")):
            user_id = scope.get("session", {}).get("user_id")
            user = None
            if isinstance(user_id, int):
                user = await User.objects.get_or_none(id=user_id)
                if user is None:
                    scope["session"].pop("user_id", None)
            scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
