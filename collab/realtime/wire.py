"""Writing one pre-built WebSocket frame to many sockets, as `websockets.broadcast()` does.

Going through ASGI costs, per socket and per event: a message dict, `str.encode()`, the
frame header, a task wake-up and an `await`. For fan-out the frame is the same for every
socket, so it is built once (`text_frame`) and written straight to each socket's transport
when uvicorn's websockets-sansio protocol serves the socket without an extension. Anything
else (another ASGI server, permessage-deflate, a paused or closing transport) takes the
ordinary ASGI path, in order, through the socket's outbox.

Everything of uvicorn's that this touches is checked once, when the socket opens; if a
later uvicorn changes shape, `for_send` says no (and logs why once) and that socket simply
writes through ASGI. A write that fails turns direct writes off for that socket only.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from websockets.protocol import State

log = logging.getLogger("collab.wire")
_warned = False


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

    __slots__ = ("conn", "protocol", "transport", "writable")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.conn = protocol.conn
        self.transport = protocol.transport
        self.writable = protocol.writable

    @classmethod
    def for_send(cls, send: Any) -> DirectWriter | None:
        """A writer for the socket behind `send`, or None when it must go through ASGI."""
        protocol = getattr(send, "__self__", None)
        if type(protocol).__name__ != "WebSocketsSansIOProtocol":
            return None
        try:
            conn = protocol.conn
            transport = protocol.transport
            writable = protocol.writable
            checks = (isinstance(conn.state, State), isinstance(protocol.close_sent, bool),
                      callable(transport.write), callable(transport.is_closing),
                      callable(writable.is_set), callable(writable.wait))
            if not all(checks):
                raise TypeError("an attribute has another type than expected")
            if conn.extensions:
                return None  # permessage-deflate: frames must be compressed by the protocol
        except (AttributeError, TypeError) as exc:
            global _warned
            if not _warned:
                _warned = True
                log.warning("direct writes are off: uvicorn's websockets-sansio protocol has "
                            "changed (%s); frames go through ASGI", exc)
            return None
        return cls(protocol)

    def ready(self) -> bool:
        """True when a frame written now goes out in order and in protocol."""
        return (self.writable.is_set() and self.conn.state is State.OPEN
                and not self.protocol.close_sent and not self.transport.is_closing())

    def gone(self) -> bool:
        return bool(self.protocol.close_sent) or self.transport.is_closing()

    def write(self, frame: bytes) -> bool:
        try:
            self.transport.write(frame)
        except Exception as exc:
            log.warning("direct write failed (%r); this socket goes through ASGI now", exc)
            return False
        return True
