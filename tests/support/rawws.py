"""A deliberately slow WebSocket client on a raw, blocking TCP socket.

The asyncio clients read eagerly into user space, so the server never sees backpressure from them.
This one sets a tiny SO_RECVBUF before connecting and simply stops calling `recv()`: the kernel's
receive window closes, the server's socket buffers fill, and its per-socket outbox must overflow.
The WebSocket framing is done by the `websockets` sans-I/O protocol, so only the I/O is ours.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri


@dataclass
class Drained:
    """What a drained socket delivered: its text frames (parsed) and how it ended."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    close: Close | None = None  # the close frame the server sent, if any
    eof: bool = False  # the TCP connection ended
    timed_out: bool = False  # the server neither closed nor sent anything before the deadline

    @property
    def close_code(self) -> int | None:
        return self.close.code if self.close else None


class SlowRawClient:
    def __init__(self, ws_url: str, token: str | None = None, rcvbuf: int = 4096) -> None:
        if token is not None:
            ws_url = f"{ws_url}?{urlencode({'token': token})}"
        self.uri = parse_uri(ws_url)
        self.rcvbuf = rcvbuf
        self.proto = ClientProtocol(self.uri, max_size=None)
        self.sock: socket.socket | None = None
        self._partial: list[bytes] = []

    def connect(self, timeout: float = 10.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Must be set before connect(): the window scale is negotiated in the SYN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        sock.settimeout(timeout)
        sock.connect((self.uri.host, self.uri.port))
        self.sock = sock
        self.proto.send_request(self.proto.connect())
        self._flush()
        deadline = time.monotonic() + timeout
        while True:
            for event in self._feed(deadline):
                if isinstance(event, Response):
                    if self.proto.handshake_exc is not None:
                        raise AssertionError(f"handshake refused: {self.proto.handshake_exc!r}")
                    return

    def _flush(self) -> None:
        assert self.sock is not None
        for chunk in self.proto.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def _feed(self, deadline: float) -> list[Any]:
        """Read once from the socket (bounded by `deadline`) and return the protocol's events."""
        assert self.sock is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("slow client: timed out waiting for the server")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise AssertionError("slow client: timed out waiting for the server") from None
        except ConnectionResetError:
            data = b""
        if data:
            self.proto.receive_data(data)
        else:
            self.proto.receive_eof()
        events = self.proto.events_received()
        self._flush()  # answers pings and close frames, as a client must
        return events

    def send_json(self, obj: Any) -> None:
        self.proto.send_text(json.dumps(obj).encode())
        self._flush()

    def _texts(self, events: list[Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for event in events:
            if not isinstance(event, Frame):
                continue
            if event.opcode in (Opcode.TEXT, Opcode.CONT):
                self._partial.append(event.data)
                if event.fin:
                    out.append(json.loads(b"".join(self._partial)))
                    self._partial.clear()
        return out

    def recv_until(self, ref: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Read frames until one carries `ref`; returns every frame read, that one last."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            frames = self._texts(self._feed(deadline))
            for i, frame in enumerate(frames):
                if frame.get("ref") == ref:
                    return seen + frames[: i + 1]
            seen.extend(frames)
            if self.proto.close_rcvd is not None or self.proto.state.name == "CLOSED":
                raise AssertionError(f"slow client closed while waiting for {ref}: {seen[-3:]}")

    def drain(self, timeout: float = 30.0) -> Drained:
        """Read everything until the server closes the connection (close frame and/or EOF)."""
        deadline = time.monotonic() + timeout
        result = Drained()
        while True:
            try:
                events = self._feed(deadline)
            except AssertionError:
                result.timed_out = True
                return result
            result.frames.extend(self._texts(events))
            if self.proto.close_rcvd is not None:
                result.close = self.proto.close_rcvd
                return result
            if self.proto.state.name == "CLOSED":
                result.eof = True
                return result

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
