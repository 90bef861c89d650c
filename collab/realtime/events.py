"""An event as it travels through the hub: data once, JSON frame encoded once, HTML rendered once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from .wire import text_frame

_UNRENDERED = object()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Event:
    """One event of one channel. `seq` is None for ephemeral events (typing, presence)."""

    __slots__ = ("_frame", "_html", "_html_wire", "_wire", "actor", "channel", "data", "seq", "ts",
                 "type")

    def __init__(
        self,
        channel: str,
        type: str,
        data: dict[str, Any],
        *,
        seq: int | None = None,
        actor: dict[str, Any] | None = None,
        ts: str | None = None,
        frame: str | None = None,
    ) -> None:
        self.channel = channel
        self.seq = seq
        self.type = type
        self.data = data
        self.actor = actor
        self.ts = ts or now_iso()
        self._frame = frame
        self._html: object = _UNRENDERED
        self._wire: bytes | None = None
        self._html_wire: bytes | None = None

    @classmethod
    def from_frame(cls, frame: str) -> Event:
        """Rebuild an event from the frame another process encoded, keeping its text."""
        obj = orjson.loads(frame)
        return cls(
            obj["channel"], obj["type"], obj.get("data") or {}, seq=obj.get("seq"),
            actor=obj.get("actor"), ts=obj.get("ts"), frame=frame,
        )

    def as_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"op": "event", "channel": self.channel}
        if self.seq is not None:
            frame["seq"] = self.seq
        frame["type"] = self.type
        frame["data"] = self.data
        if self.actor is not None:
            frame["actor"] = self.actor
        frame["ts"] = self.ts
        return frame

    @property
    def frame(self) -> str:
        """The JSON text sent to every socket; encoded on first use, then shared."""
        if self._frame is None:
            self._frame = orjson.dumps(self.as_frame()).decode()
        return self._frame

    @property
    def wire(self) -> bytes:
        """The WebSocket frame carrying `frame`, built once for every socket."""
        if self._wire is None:
            self._wire = text_frame(self.frame.encode())
        return self._wire

    def html_wire(self, html: str) -> bytes:
        if self._html_wire is None:
            self._html_wire = text_frame(html.encode())
        return self._html_wire

    def html(self, kind: Any, renderer: Any) -> str | None:
        """The HTML fragment, rendered by the web layer once and then shared by every page."""
        if self._html is _UNRENDERED:
            self._html = renderer.event(kind, self)
        return self._html  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Event({self.channel!r}, seq={self.seq}, type={self.type!r})"
