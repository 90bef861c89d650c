"""The ASGI WebSocket endpoints: `/ws` (JSON frames) and `/ws/html` (htmx fragments)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from collab.errors import CollabError, Invalid, TooLarge

from .channels import Actor
from .connection import Connection
from .encoders import JSON
from .wire import DirectWriter, slim

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("collab.ws")

Authenticate = Callable[[dict[str, Any]], Awaitable[Actor | None]]

# Fields htmx adds to every ws-send, and ours that are not action data.
_HTMX_FIELDS = {"HEADERS", "type", "channel", "csrf_token", "key"}
_KEY = re.compile(r'"key"\s*:\s*"([A-Za-z0-9_-]{1,64})"')


class SocketEndpoint:
    """An ASGI app for one socket path; `authenticate(scope)` is the accounts layer's hook."""

    def __init__(self, hub: Hub, authenticate: Authenticate, html: bool = False) -> None:
        self.hub = hub
        self.authenticate = authenticate
        self.html = html

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        try:
            actor = await self.authenticate(scope)
        except CollabError as exc:
            log.info("websocket refused: %s", exc.message)
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.accept"})
        encoder = self.hub.html if self.html else JSON
        if encoder is None:
            await send({"type": "websocket.close", "code": 1011})
            return
        slim(send)  # before DirectWriter, which keeps the protocol's `writable`
        conn = Connection(self.hub, send, actor, encoder)
        if self.hub.settings.ws_direct_writes:
            conn.direct = DirectWriter.for_send(send)
        if not self.html:
            await conn.run(receive, conn.handle_text)
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        channel = (query.get("channel") or [""])[0][:200]
        since_raw = (query.get("since") or [""])[0]
        since = int(since_raw) if since_raw.isascii() and since_raw.isdigit() \
            and len(since_raw) < 19 else None
        epoch = (query.get("epoch") or [None])[0]
        try:
            await self.hub.joins.join(conn, channel, since, epoch and epoch[:64], None)
        except CollabError as exc:
            conn.error(exc, None)
            conn.close(1008)
        await conn.run(receive, lambda text: self._html_send(conn, channel, text))

    async def _html_send(self, conn: Connection, channel: str, text: str) -> None:
        """A `ws-send` form: its fields are a `send` on the page's channel."""
        limit = self.hub.settings.ws_max_frame_bytes
        if len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
            # Not parsed, but the page still learns which of its forms was refused.
            found = _KEY.search(text, 0, 4096) or _KEY.search(text, max(0, len(text) - 4096))
            conn._refused(TooLarge(f"the form is larger than {limit} bytes"),
                          found.group(1) if found else None, "send")
            return
        try:
            fields = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise Invalid("the form could not be read") from None
        key = fields.get("key") if isinstance(fields, dict) else None
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            key = None
        if not isinstance(fields, dict) or not isinstance(fields.get("type"), str):
            conn._refused(Invalid("the form names no action"), key, "send")
            return
        data = {k: v for k, v in fields.items() if k not in _HTMX_FIELDS}
        # The key doubles as the ref, so the page's answer names the form it settles.
        await conn.send_action(channel, fields["type"][:64], data, key, key)


class SocketRouter:
    """Outermost middleware: hands socket upgrades for its paths straight to their endpoints.

    A socket lives for hours, and every middleware it passes through keeps a suspended
    frame for all that time; these paths need none of them (the authenticate hook reads
    the session cookie itself), so they skip the stack. The endpoint also gets the
    server's own `send`, which is what lets DirectWriter write frames straight out.
    """

    def __init__(self, app: Any, endpoints: dict[str, SocketEndpoint]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            endpoint = self.endpoints.get(scope["path"])
            if endpoint is not None:
                scope.setdefault("app", self.app)
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)
