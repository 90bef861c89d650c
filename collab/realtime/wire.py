"""Writing one pre-built WebSocket frame to many sockets, as `websockets.broadcast()` does.

Going through ASGI costs, per socket and per event: a message dict, `str.encode()`, the
frame header, a task wake-up and an `await`. For fan-out the frame is the same for every
socket, so it is built once (`text_frame`) and written straight to each socket's transport
when uvicorn's websockets-sansio protocol serves the socket without an extension. Anything
else (another ASGI server, permessage-deflate, a paused or closing transport) takes the
ordinary ASGI path, in order, through the socket's outbox.
"""

from __future__ import annotations

import struct
from typing import Any

from websockets.protocol import State


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (servers never mask, RFC 6455 §5.1)."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 65536:
        return b"\x81\x7e" + struct.pack("!H", length) + payload
    return b"\x81\x7f" + struct.pack("!Q", length) + payload


class DirectWriter:
    """The transport behind an ASGI `send`, when frames may be written to it directly."""

    __slots__ = ("protocol", "transport", "writable")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport = protocol.transport
        self.writable = protocol.writable

    @classmethod
    def for_send(cls, send: Any) -> DirectWriter | None:
        protocol = getattr(send, "__self__", None)
        if type(protocol).__name__ != "WebSocketsSansIOProtocol":
            return None
        conn = getattr(protocol, "conn", None)
        if conn is None or conn.extensions or not hasattr(protocol, "writable"):
            return None
        return cls(protocol)

    def ready(self) -> bool:
        """True when a frame written now goes out in order and in protocol."""
        protocol = self.protocol
        return (self.writable.is_set() and protocol.conn.state is State.OPEN
                and not protocol.close_sent and not self.transport.is_closing())

    def write(self, frame: bytes) -> None:
        self.transport.write(frame)
