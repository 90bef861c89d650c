"""What each kind of socket is sent: JSON frames on `/ws`, HTML fragments on `/ws/html`.

A connection holds one encoder; the hub asks it for every frame, so no `html` flag travels
through the layers. Both encoders share work across sockets: an event is encoded (JSON) or
rendered (HTML) once per process and the same text and wire bytes go to every socket.
The HTML itself (templates, element ids) belongs to the web layer, which hands the hub a
`Renderer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .protocol import dumps, error_frame
from .wire import text_frame

if TYPE_CHECKING:
    from .channels import ChannelKind
    from .events import Event
    from .presence import Present

Out = tuple[str, bytes | None]


class Renderer(Protocol):
    """The web layer's side of `/ws/html`: fragments pages swap in by element id."""

    def event(self, kind: ChannelKind, event: Event) -> str | None: ...

    def presence(self, kind: ChannelKind, channel: str, present: Present) -> str | None: ...

    def joined(self, kind: ChannelKind, channel: str, seq: int, epoch: str,
               present: Present) -> str | None: ...

    def reset(self, channel: str, seq: int, epoch: str) -> str: ...

    def error(self, code: str, message: str, ref: str | None) -> str: ...

    def ack(self, ref: str) -> str: ...


class JsonEncoder:
    html = False

    def event(self, kind: ChannelKind, event: Event) -> Out | None:
        return event.frame, event.wire

    def joined(self, kind: ChannelKind, channel: str, ref: str | None, seq: int, epoch: str,
               present: Present) -> str | None:
        return dumps({"op": "joined", "ref": ref, "channel": channel, "seq": seq,
                      "epoch": epoch, "presence": present.members,
                      "present_count": present.count})

    def presence(self, kind: ChannelKind, channel: str, frame: str,
                 present: Present) -> str | None:
        return frame

    def reset(self, channel: str, seq: int, epoch: str) -> str:
        return dumps({"op": "event", "channel": channel, "type": "reset", "seq": seq,
                      "data": {"epoch": epoch}})

    def error(self, code: str, message: str, ref: str | None = None, **extra: Any) -> str:
        return error_frame(code, message, ref, **extra)

    def reply(self, obj: dict[str, Any]) -> str | None:
        return dumps(obj)


class HtmlEncoder:
    html = True

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def event(self, kind: ChannelKind, event: Event) -> Out | None:
        html = event.html(kind, self.renderer)
        if html is None:
            return None
        return html, event.html_wire(html)

    def joined(self, kind: ChannelKind, channel: str, ref: str | None, seq: int, epoch: str,
               present: Present) -> str | None:
        return self.renderer.joined(kind, channel, seq, epoch, present)

    def presence(self, kind: ChannelKind, channel: str, frame: str,
                 present: Present) -> str | None:
        # Pages show the first members and the count ("130 here now"), rendered once.
        return self.renderer.presence(kind, channel, present)

    def reset(self, channel: str, seq: int, epoch: str) -> str:
        return self.renderer.reset(channel, seq, epoch)

    def error(self, code: str, message: str, ref: str | None = None, **extra: Any) -> str:
        return self.renderer.error(code, message, ref)

    def reply(self, obj: dict[str, Any]) -> str | None:
        # A page's send (its ref is the form's send key) is answered so the form can settle.
        if obj.get("op") == "ack" and obj.get("ref"):
            return self.renderer.ack(obj["ref"])
        return None


JSON = JsonEncoder()


def wire_of(text: str) -> bytes:
    return text_frame(text.encode())
