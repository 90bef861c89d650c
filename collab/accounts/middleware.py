"""Loads the signed-in user of a page request once, for handlers and templates alike."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import SESSION_KEY
from .credentials import session_user


class SessionUserMiddleware:
    """The cookie names a server-side session; one that ended (signed out, here or on another
    copy of the cookie) or went idle signs nobody in, and is dropped from the cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(("/static/", "/api/")):
            session = scope.get("session", {})
            user = None
            if SESSION_KEY in session:
                found = await session_user(session[SESSION_KEY])
                if found is None:
                    session.pop(SESSION_KEY, None)
                else:
                    user = found[1]
            scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
