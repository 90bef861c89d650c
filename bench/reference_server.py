"""The Python ceiling for collab's fan-out: bare `websockets` + `broadcast()`, fed by Redis pub/sub.

No framework, no storage, no per-socket tasks beyond what `websockets` itself runs: sockets live in
one set per channel and every event is encoded once and written to all of them with
`websockets.broadcast()`. It speaks just enough of PROTOCOL.md (`join` -> `joined`, `send` ->
`event` to the channel + `ack` to the sender, `leave`, `ping`) for bench/loadgen.js to drive it
exactly as it drives collab.

A `send` goes through Redis even on a single process so the path is the one collab takes with
`BROADCAST_URL=redis://`: publish, receive from the subscription, fan out. The per-channel `seq`
comes from a Redis INCR done atomically with the PUBLISH (one Lua call), so several reference
processes on one Redis still hand out 1, 2, 3, ... in publish order.

Run: python bench/reference_server.py --port 8765 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import html
import json
import os
import signal
import uuid
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

# Atomic "next seq + publish": ARGV[1] is the payload; the subscriber gets "<seq>|<payload>".
_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], seq .. '|' .. ARGV[1])
return seq
"""

PUBSUB_PREFIX = "refbench:"


class ReferenceHub:
    """Channel -> sockets, and the one Redis subscription per process that feeds them."""

    def __init__(self, redis_url: str) -> None:
        # A blocking pool: 100 joins at once queue for a connection instead of failing with
        # "Too many connections" (redis-py 8's default pool refuses past its limit).
        pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=16, timeout=30)
        self.redis = aioredis.Redis(connection_pool=pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.origin = uuid.uuid4().hex[:12]  # tells this process's own publishes apart
        self.channels: dict[str, set[ServerConnection]] = {}
        self.by_id: dict[str, ServerConnection] = {}
        self.publish_script = self.redis.register_script(_PUBLISH_LUA)
        self._subscribed = False
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # A pattern subscription made once at start: no per-channel subscribe race, no per-socket
        # subscription, one listener task for the whole process.
        await self.pubsub.psubscribe(PUBSUB_PREFIX + "*")
        self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] != "pmessage":
                continue
            channel = message["channel"].decode()[len(PUBSUB_PREFIX):]
            seq_text, _, payload = message["data"].partition(b"|")
            seq = int(seq_text)
            item = json.loads(payload)
            frame = json.dumps(
                {
                    "op": "event",
                    "channel": channel,
                    "seq": seq,
                    "type": item["type"],
                    "data": {**item["data"], "id": seq},
                    "actor": item["actor"],
                    "ts": item["ts"],
                },
                separators=(",", ":"),
            )
            sockets = self.channels.get(channel)
            if sockets:
                # The ceiling: one encoded frame, written synchronously to every socket.
                broadcast(sockets, frame)
            if item["origin"] == self.origin:
                sender = self.by_id.get(item["sender"])
                if sender is not None:
                    # broadcast() never waits on a slow sender, so the listener never stalls.
                    broadcast([sender], json.dumps({"op": "ack", "ref": item["ref"], "seq": seq}))

    async def publish(self, sender_id: str, frame: dict[str, Any]) -> None:
        body = str(frame.get("data", {}).get("body", ""))
        item = {
            "origin": self.origin,
            "sender": sender_id,
            "ref": frame.get("ref"),
            "type": "post.created",
            # Roughly the shape collab sends, so frame sizes are comparable.
            "data": {"body": body, "body_html": "<p>" + html.escape(body) + "</p>",
                     "author": {"id": 1, "username": "bench"}},
            "actor": {"id": 1, "username": "bench"},
            "ts": datetime.datetime.now(datetime.UTC).isoformat(),
        }
        channel = frame["channel"]
        await self.publish_script(
            keys=[PUBSUB_PREFIX + "seq:" + channel, PUBSUB_PREFIX + channel],
            args=[json.dumps(item, separators=(",", ":"))],
        )

    async def latest_seq(self, channel: str) -> int:
        value = await self.redis.get(PUBSUB_PREFIX + "seq:" + channel)
        return int(value) if value else 0

    async def handler(self, ws: ServerConnection) -> None:
        sock_id = uuid.uuid4().hex
        self.by_id[sock_id] = ws
        joined: set[str] = set()
        try:
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                    op = frame["op"]
                except (ValueError, KeyError, TypeError):
                    await ws.send('{"op":"error","code":"bad_frame","message":"bad frame"}')
                    continue
                ref = frame.get("ref")
                if op == "join":
                    channel = frame["channel"]
                    self.channels.setdefault(channel, set()).add(ws)
                    joined.add(channel)
                    seq = await self.latest_seq(channel)
                    await ws.send(json.dumps({"op": "joined", "ref": ref, "channel": channel,
                                              "seq": seq, "presence": []}))
                elif op == "leave":
                    channel = frame["channel"]
                    self.channels.get(channel, set()).discard(ws)
                    joined.discard(channel)
                    await ws.send(json.dumps({"op": "ack", "ref": ref}))
                elif op == "send":
                    await self.publish(sock_id, frame)
                elif op == "ping":
                    await ws.send(json.dumps({"op": "pong", "ref": ref}))
                else:
                    await ws.send(json.dumps({"op": "error", "ref": ref, "code": "unknown_op",
                                              "message": "unknown op"}))
        finally:
            for channel in joined:
                self.channels.get(channel, set()).discard(ws)
            self.by_id.pop(sock_id, None)


async def _process_request(connection: ServerConnection, request: Any) -> Any:
    # GET /healthz answers 200 so the driver waits for the reference the way it waits for collab.
    if request.path.startswith("/healthz"):
        return connection.respond(200, "ok\n")
    return None


async def main(host: str, port: int, redis_url: str) -> None:
    hub = ReferenceHub(redis_url)
    await hub.start()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # compression=None: the ceiling writes plain frames (permessage-deflate costs CPU per socket).
    async with serve(hub.handler, host, port, compression=None,
                     process_request=_process_request, max_queue=64):
        print(f"reference server pid {os.getpid()} on ws://{host}:{port}", flush=True)
        await stop


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--uvloop", action="store_true",
                        help="run on uvloop, as collab does under uvicorn --loop uvloop")
    return parser.parse_args()


if __name__ == "__main__":
    args = _parse()
    if args.uvloop:
        import uvloop

        uvloop.run(main(args.host, args.port, args.redis))
    else:
        asyncio.run(main(args.host, args.port, args.redis))
