"""Steady traffic on a forum thread, a board and a webinar, and what every client saw.

Writers are `collab.client` sockets (keyed sends, resent across reconnects until answered).
Readers are raw websockets that record every event exactly as it arrives (no de-duplication,
unlike `collab.client`), and on a drop reconnect through nginx and rejoin each channel with
`since` = the last seq they saw and its `epoch`, as the protocol tells clients to.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import secrets
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from collab.client import Client, ClientError

Frame = dict[str, Any]
SEND_TIMEOUT = 90.0  # a send may wait out a whole fault; it must be answered in the end
SEND_EVERY = 0.3     # seconds between one writer's sends: steady, well under WS_SEND_RATE


@dataclass
class Sent:
    """One keyed send and how it ended (`ack` frame, or the refusal's code)."""

    channel: str
    type: str
    data: dict[str, Any]
    key: str
    ack: Frame | None = None
    refused: str | None = None
    error: str | None = None


class Reader:
    """A raw socket following some channels through every drop."""

    def __init__(self, url: str, token: str, channels: list[str], name: str,
                 ssl_context: ssl.SSLContext) -> None:
        self.url = f"{url}?{urlencode({'token': token})}"
        self.channels = channels
        self.name = name
        self.ssl = ssl_context
        self.base: dict[str, int] = {}
        self.last: dict[str, int] = {}
        self.epoch: dict[str, str] = {}
        self.events: dict[str, list[Frame]] = {c: [] for c in channels}
        self.resets: list[Frame] = []
        self.errors: list[Frame] = []
        self.reconnects = 0
        self.crashed: BaseException | None = None
        self.tail: deque[Frame] = deque(maxlen=6)  # the last frames, for failure messages
        self.joined = asyncio.Event()
        self._refs = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()

    def seqs(self, channel: str) -> list[int]:
        return [int(f["seq"]) for f in self.events[channel]]

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.wait_for(self.joined.wait(), 30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_for(self, targets: dict[str, int], timeout: float) -> None:
        """Until every channel in `targets` has reached its seq (AssertionError after timeout)."""
        def done() -> bool:
            if self.crashed is not None:
                raise AssertionError(f"{self.name} crashed: {self.crashed!r}")
            return all(self.last.get(c, -1) >= s for c, s in targets.items())
        try:
            async with asyncio.timeout(timeout):
                async with self._progress:
                    await self._progress.wait_for(done)
        except TimeoutError:
            raise AssertionError(f"{self.name}: reached {self.last}, not {targets} in {timeout} s;"
                                 f" resets {self.resets[:3]} errors {self.errors[:3]}; last frames {list(self.tail)}") from None

    async def _run(self) -> None:
        while True:
            try:
                async with connect(self.url, ssl=self.ssl, proxy=None, compression=None,
                                   open_timeout=10, ping_interval=None,
                                   max_size=2**22) as ws:
                    for channel in self.channels:
                        frame: Frame = {"op": "join", "ref": f"j{next(self._refs)}",
                                        "channel": channel}
                        if channel in self.last:
                            frame["since"] = self.last[channel]
                            if channel in self.epoch:
                                frame["epoch"] = self.epoch[channel]
                        await ws.send(json.dumps(frame))
                    async for raw in ws:
                        await self._frame(json.loads(raw))
            except (ConnectionClosed, InvalidHandshake, InvalidStatus, OSError, TimeoutError):
                pass
            except Exception as exc:  # a bug of the test's own: say so instead of hanging
                self.crashed = exc
                async with self._progress:
                    self._progress.notify_all()
                raise
            self.reconnects += 1
            await asyncio.sleep(0.1 + random.random() * 0.3)  # reconnect backoff

    async def _frame(self, frame: Frame) -> None:
        self.tail.append(frame)
        op, channel = frame.get("op"), frame.get("channel", "")
        if op == "joined":
            self.base.setdefault(channel, int(frame["seq"]))
            self.last.setdefault(channel, int(frame["seq"]))
            if frame.get("epoch"):
                self.epoch[channel] = frame["epoch"]
            if all(c in self.base for c in self.channels):
                self.joined.set()
        elif op == "event" and "seq" in frame:
            if frame.get("type") == "reset":
                self.resets.append(frame)
            else:
                self.events[channel].append(frame)
            self.last[channel] = max(self.last.get(channel, 0), int(frame["seq"]))
        elif op == "error":
            self.errors.append(frame)
        async with self._progress:
            self._progress.notify_all()


class Writer:
    """A `collab.client` socket sending one product's actions at a steady pace."""

    def __init__(self, url: str, token: str, channel: str, name: str,
                 act: Callable[[Writer, int], Awaitable[None]]) -> None:
        self.client = Client(url, token=token)
        self.channel = channel
        self.name = name
        self.act = act
        self.sent: list[Sent] = []
        self.state: dict[str, Any] = {}
        self.run = secrets.token_hex(4)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.connect()
        await self.client.join(self.channel)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        for n in itertools.count():
            if self._stop.is_set():
                return
            await self.act(self, n)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SEND_EVERY)  # the steady pace

    async def send(self, type: str, data: dict[str, Any]) -> Sent:
        # Keys are the user's for good (a repeated key is answered with the first ack), so
        # they name the run as well as the send.
        record = Sent(self.channel, type, data, key=f"{self.run}-{self.name}-{len(self.sent)}")
        self.sent.append(record)
        try:
            record.ack = await self.client.send(self.channel, type, data, key=record.key,
                                                timeout=SEND_TIMEOUT)
        except ClientError as exc:
            record.refused = exc.code
        except (TimeoutError, ConnectionError) as exc:
            record.error = repr(exc)
        return record

    async def finish(self) -> None:
        """Stop sending; the send in flight is waited for (it must be answered)."""
        self._stop.set()
        if self._task is not None:
            await self._task
        await self.client.close()

    def acked(self) -> list[Sent]:
        return [s for s in self.sent if s.ack is not None]


@dataclass
class Figures:
    fault: str
    product: str
    sent: int = 0
    acked: int = 0
    refused: int = 0
    unanswered: int = 0
    expected: int = 0   # deliveries due: acked events × readers
    delivered: int = 0  # events that readers received, duplicates included
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    resets: int = 0
    reconnects: int = 0
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        return (f"{self.fault:<16} {self.product:<8} sent {self.sent:>4}  acked {self.acked:>4}"
                f"  refused {self.refused:>2}  unanswered {self.unanswered}  delivered "
                f"{self.delivered:>5}/{self.expected:<5} lost {self.lost}  duplicated "
                f"{self.duplicated}  reordered {self.reordered}  resets {self.resets}"
                f"  reader reconnects {self.reconnects}"
                + (f"  ({'; '.join(self.notes)})" if self.notes else ""))


def delivery_figures(fault: str, product: str, channel: str, writers: list[Writer],
                     readers: list[Reader]) -> tuple[Figures, list[str]]:
    """Count, and list the breaches of: every acknowledged event reached every reader exactly
    once and in order, and readers saw nothing that was not acknowledged."""
    sent = [s for w in writers for s in w.sent]
    acked = sorted(int(s.ack["seq"]) for s in sent if s.ack is not None and "seq" in s.ack)
    fig = Figures(fault, product, sent=len(sent), acked=len(acked),
                  refused=sum(s.refused is not None for s in sent),
                  unanswered=sum(s.error is not None for s in sent))
    problems = [f"{product}: {s.key} {s.type} never answered: {s.error}"
                for s in sent if s.error is not None]
    fig.notes = [f"{s.type} refused {s.refused}" for s in sent if s.refused is not None]
    if len(set(acked)) != len(acked):
        problems.append(f"{product}: two sends acknowledged with one seq: {acked}")
    for r in readers:
        got = r.seqs(channel)
        base = r.base[channel]
        want = [s for s in acked if s > base]
        fig.expected += len(want)
        fig.delivered += len(got)
        fig.resets += sum(f.get("channel") == channel for f in r.resets)
        fig.reconnects += r.reconnects
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        dups = sorted({s for s in got if got.count(s) > 1})
        fig.lost += len(missing)
        fig.duplicated += len(got) - len(set(got))
        fig.reordered += sum(1 for a, b in itertools.pairwise(got) if b < a)
        if missing or extra or dups or got != sorted(got):
            problems.append(f"{product}: {r.name} missing {missing[:10]} not acknowledged "
                            f"{extra[:10]} duplicated {dups[:10]} in order {got == sorted(got)}")
        if any(f.get("channel") == channel for f in r.resets):
            problems.append(f"{product}: {r.name} got reset {r.resets[:2]}")
    return fig, problems
