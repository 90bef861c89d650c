"""A small client for collab's `/ws` protocol, for tests.

Every wait has a timeout and fails the test with what was received instead of hanging. Frames that
arrive while the client waits for something else (events while it waits for an `ack`, presence
while it waits for events) are kept in a buffer, so nothing is lost between calls.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Self
from urllib.parse import urlencode

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

DEFAULT_TIMEOUT = 10.0
Frame = dict[str, Any]

_refs = itertools.count(1)


class WSClient:
    """One socket to `/ws`. Create with `await WSClient.connect(...)`; close with `close()`."""

    def __init__(self, ws: ClientConnection, name: str = "client") -> None:
        self.ws = ws
        self.name = name
        self.buffer: deque[Frame] = deque()
        # Every frame ever received, in order, for failure messages and assertions.
        self.history: list[Frame] = []

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        via: str = "query",
        headers: Mapping[str, str] | None = None,
        origin: str | None = None,
        name: str = "client",
        max_size: int | None = 2**22,
        compression: str | None = None,
        open_timeout: float = DEFAULT_TIMEOUT,
    ) -> WSClient:
        """Open a socket; `via` is "query" (`?token=`) or "header" (`Authorization: Bearer`)."""
        extra = dict(headers or {})
        if token is not None:
            if via == "query":
                sep = "&" if "?" in url else "?"
                url = f"{url}{sep}{urlencode({'token': token})}"
            elif via == "header":
                extra["Authorization"] = f"Bearer {token}"
            else:
                raise ValueError(f"via must be 'query' or 'header', not {via!r}")
        ws = await connect(
            url,
            additional_headers=extra,
            origin=origin,  # type: ignore[arg-type]
            max_size=max_size,
            compression=compression,
            open_timeout=open_timeout,
            proxy=None,
            # No keepalive pings: a test that deliberately blocks must not be disconnected by them.
            ping_interval=None,
        )
        return cls(ws, name=name)

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, obj: Any) -> None:
        await self.ws.send(json.dumps(obj))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    # -- receiving -------------------------------------------------------------------------------

    async def _read(self, timeout: float, waiting_for: str) -> Frame:
        """The next frame from the socket itself (not the buffer)."""
        try:
            with anyio.fail_after(timeout):
                raw = await self.ws.recv()
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no frame within {timeout}s while waiting for {waiting_for}; "
                f"last frames: {self.history[-5:]}"
            ) from None
        except ConnectionClosed as exc:
            raise AssertionError(
                f"{self.name}: socket closed ({exc.rcvd.code if exc.rcvd else 'no close frame'} "
                f"{exc.rcvd.reason if exc.rcvd else ''}) while waiting for {waiting_for}; "
                f"last frames: {self.history[-5:]}"
            ) from None
        assert isinstance(raw, str), f"{self.name}: server sent a binary frame: {raw[:100]!r}"
        frame = json.loads(raw)
        assert isinstance(frame, dict), f"{self.name}: server frame is not an object: {raw[:200]}"
        self.history.append(frame)
        return frame

    async def recv(self, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        """The next frame: the oldest buffered one, else the next from the socket."""
        if self.buffer:
            return self.buffer.popleft()
        return await self._read(timeout, "any frame")

    async def wait_for(
        self,
        predicate: Callable[[Frame], bool],
        timeout: float = DEFAULT_TIMEOUT,
        what: str = "a matching frame",
    ) -> Frame:
        """The first frame (buffered first) matching `predicate`; others stay buffered."""
        for frame in list(self.buffer):
            if predicate(frame):
                self.buffer.remove(frame)
                return frame
        deadline = anyio.current_time() + timeout
        while True:
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.name}: no {what} within {timeout}s; "
                    f"buffered: {list(self.buffer)[-10:]}"
                )
            frame = await self._read(remaining, what)
            if predicate(frame):
                return frame
            self.buffer.append(frame)

    async def request(self, op: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> Frame:
        """Send `{"op": op, "ref": fresh, **fields}` and return the reply carrying that ref."""
        ref = f"r{next(_refs)}"
        await self.send({"op": op, "ref": ref, **fields})
        return await self.wait_for(
            lambda f: f.get("ref") == ref, timeout, what=f"the reply to {op} ref={ref}"
        )

    async def ping(self, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        reply = await self.request("ping", timeout=timeout)
        assert reply.get("op") == "pong", f"{self.name}: ping answered with {reply}"
        return reply

    async def join(
        self, channel: str, since: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Frame:
        """Join `channel`; returns the reply (`joined`, or an `error` frame: check `op`)."""
        fields: dict[str, Any] = {"channel": channel}
        if since is not None:
            fields["since"] = since
        return await self.request("join", timeout=timeout, **fields)

    async def join_ok(
        self, channel: str, since: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Frame:
        """Join and assert it worked; returns the `joined` frame."""
        reply = await self.join(channel, since=since, timeout=timeout)
        assert reply.get("op") == "joined", f"{self.name}: join {channel} answered {reply}"
        assert reply.get("channel") == channel, reply
        return reply

    async def leave(self, channel: str, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        return await self.request("leave", timeout=timeout, channel=channel)

    async def send_action(
        self,
        channel: str,
        type: str,
        data: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Frame:
        """A `send` frame; returns the `ack` or `error` reply."""
        return await self.request(
            "send", timeout=timeout, channel=channel, type=type,
            data={} if data is None else data,
        )

    async def post(self, channel: str, body: str, timeout: float = DEFAULT_TIMEOUT) -> int:
        """`post.create` and assert it was acknowledged; returns the event's seq."""
        reply = await self.send_action(channel, "post.create", {"body": body}, timeout=timeout)
        assert reply.get("op") == "ack", f"{self.name}: post.create answered {reply}"
        assert isinstance(reply.get("seq"), int), f"ack without an integer seq: {reply}"
        return int(reply["seq"])

    async def events(
        self,
        channel: str,
        n: int,
        timeout: float = DEFAULT_TIMEOUT,
        type: str | None = None,
        persisted_only: bool = True,
    ) -> list[Frame]:
        """The next `n` event frames of `channel` (buffered first), in arrival order.

        With `persisted_only` (the default) ephemeral events without a `seq` (typing) are left in
        the buffer; with `type`, only events of that type count.
        """

        def wanted(f: Frame) -> bool:
            return (
                f.get("op") == "event"
                and f.get("channel") == channel
                and (type is None or f.get("type") == type)
                and (not persisted_only or "seq" in f)
            )

        out: list[Frame] = []
        try:
            with anyio.fail_after(timeout):
                while len(out) < n:
                    out.append(
                        await self.wait_for(
                            wanted, timeout, what=f"event {len(out) + 1}/{n} on {channel}"
                        )
                    )
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: got {len(out)}/{n} events on {channel} within {timeout}s: "
                f"seqs {[f.get('seq') for f in out]}"
            ) from None
        return out

    async def events_until(
        self, channel: str, seq: int, timeout: float = DEFAULT_TIMEOUT
    ) -> list[Frame]:
        """Persisted events of `channel` until one with `seq` >= `seq` arrives (inclusive)."""
        out: list[Frame] = []
        try:
            with anyio.fail_after(timeout):
                while not out or int(out[-1]["seq"]) < seq:
                    out.extend(await self.events(channel, 1, timeout=timeout))
        except TimeoutError:
            seqs = [f.get("seq") for f in out]
            raise AssertionError(
                f"{self.name}: waited {timeout}s for seq {seq} on {channel}; got {seqs}"
            ) from None
        return out

    def buffered(self, predicate: Callable[[Frame], bool] | None = None) -> list[Frame]:
        return [f for f in self.buffer if predicate is None or predicate(f)]

    async def closed_code(self, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        """Read (discarding frames) until the server closes; the close code (None: no frame)."""
        try:
            with anyio.fail_after(timeout):
                while True:
                    raw = await self.ws.recv()
                    if isinstance(raw, str):
                        self.history.append(json.loads(raw))
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: still open after {timeout}s; last frames {self.history[-5:]}"
            ) from None

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def seqs(frames: list[Frame]) -> list[int]:
    return [int(f["seq"]) for f in frames]
