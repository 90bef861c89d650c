"""Presence: the members (not sockets) present in each channel.

In one process (`memory://`) counting sockets per member is the whole truth. With Redis,
each process writes `{user_id}:{process}` fields with an expiry into one hash per channel
and refreshes them on a heartbeat, so every process lists the same members and a crashed
process's members age out after PRESENCE_TTL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
from collections import defaultdict
from typing import Any

import orjson

from .channels import Actor

log = logging.getLogger("collab.presence")
_by_username = operator.itemgetter("username")


class Presence:
    def __init__(self, redis_url: str | None, origin: str, ttl: int) -> None:
        self._url = redis_url
        self._origin = origin
        self._ttl = ttl
        self._redis: Any = None
        # channel -> user id -> [sockets in this process, public user dict]
        self._local: dict[str, dict[int, list[Any]]] = defaultdict(dict)
        # channel -> the list read from Redis that callers are waiting for: one read in flight
        # per channel, and one queued behind it (see members()).
        self._reading: dict[str, asyncio.Future[dict[int, dict[str, Any]]]] = {}
        self._queued: dict[str, asyncio.Future[dict[int, dict[str, Any]]]] = {}
        # channel -> field -> (raw value, decoded): a value changes only when its process
        # refreshes it, so a crowd's thousand reads decode each entry about once, not per read.
        self._decoded: dict[str, dict[bytes, tuple[bytes, Any]]] = {}

    async def start(self) -> None:
        if self._url:
            from redis import asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError

            # After Redis restarts, every pooled connection is dead and the first command on
            # each failed ("Connection closed by server"): a member joining then was counted
            # locally only. A command that finds its connection closed is tried once more on
            # a fresh one. Timeouts are not retried: a stalled Redis would cost twice as long.
            self._redis = aioredis.Redis.from_url(
                self._url, socket_connect_timeout=2, socket_timeout=2,
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    @staticmethod
    def _key(channel: str) -> str:
        return f"collab:presence:{channel}"

    def _field(self, user_id: int) -> str:
        return f"{user_id}:{self._origin}"

    def _value(self, user: dict[str, Any]) -> bytes:
        return orjson.dumps({"until": time.time() + self._ttl, "user": user})

    async def add(self, channel: str, actor: Actor) -> bool:
        """Count one more socket of `actor` here; True when the member was not present before."""
        entry = self._local[channel].get(actor.id)
        if entry is not None:
            entry[0] += 1
            return False
        user = actor.public()
        self._local[channel][actor.id] = [1, user]
        if self._redis is None:
            return True
        try:
            others = await self._live_fields(channel, actor.id)
            await self._redis.hset(self._key(channel), self._field(actor.id), self._value(user))
            return not others
        except Exception as exc:
            log.warning("presence add failed (%r): counted locally only", exc)
            return True

    async def remove(self, channel: str, actor: Actor) -> bool:
        """One socket fewer; True when the member has left the channel everywhere."""
        members = self._local.get(channel)
        entry = members.get(actor.id) if members else None
        if entry is None:
            return False
        entry[0] -= 1
        if entry[0] > 0:
            return False
        del members[actor.id]
        if not members:
            self._local.pop(channel, None)
            self._decoded.pop(channel, None)
        if self._redis is None:
            return True
        try:
            await self._redis.hdel(self._key(channel), self._field(actor.id))
            return not await self._live_fields(channel, actor.id)
        except Exception as exc:
            log.warning("presence remove failed: %r", exc)
            return True

    async def _live_fields(self, channel: str, user_id: int) -> list[str]:
        # Only this member's fields, filtered by Redis: reading the whole hash here made every
        # arrival cost O(members) in Python (1,000 joins of one webinar: 0.5 M fields parsed).
        now = time.time()
        mine = self._field(user_id)
        return [
            f.decode() async for f, v in self._redis.hscan_iter(
                self._key(channel), match=f"{user_id}:*", count=10_000)
            if f.decode() != mine and orjson.loads(v)["until"] > now
        ]

    async def _read_all(self, channel: str) -> dict[int, dict[str, Any]]:
        """The channel's live members in Redis (user id -> public user), read after this call
        began, shared by callers.

        A crowd joining one channel asks for the whole list once per arrival. Callers that
        come while a read is in flight wait for the next one, which starts when it ends: each
        still gets a list read after it asked (so it holds every member that had arrived by
        then, itself included), and a thousand arrivals cost a few dozen reads, not a thousand.
        """
        queued = self._queued.get(channel)
        if queued is not None:
            return await asyncio.shield(queued)
        future: asyncio.Future[dict[int, dict[str, Any]]] = \
            asyncio.get_running_loop().create_future()
        try:
            reading = self._reading.get(channel)
            if reading is not None:
                self._queued[channel] = future
                await asyncio.wait([reading])  # its outcome is its callers' business
                del self._queued[channel]
            self._reading[channel] = future
            raw = await self._redis.hgetall(self._key(channel))
            future.set_result(self._decode(channel, raw))
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc if isinstance(exc, Exception)
                                     else ConnectionError("the presence read was cancelled"))
                future.exception()  # marked retrieved: the waiters get it themselves
            raise
        finally:
            if self._queued.get(channel) is future:
                del self._queued[channel]
            if self._reading.get(channel) is future:
                del self._reading[channel]
        return future.result()

    def _decode(self, channel: str, raw: dict[bytes, bytes]) -> dict[int, dict[str, Any]]:
        known = self._decoded.get(channel, {})
        fresh: dict[bytes, tuple[bytes, Any]] = {}
        live: dict[int, dict[str, Any]] = {}
        now = time.time()
        for field, value in raw.items():
            hit = known.get(field)
            if hit is None or hit[0] != value:
                hit = (value, orjson.loads(value))
            fresh[field] = hit
            if hit[1]["until"] > now:
                live[hit[1]["user"]["id"]] = hit[1]["user"]
        if channel in self._local:  # a channel nobody here is in is not worth remembering
            self._decoded[channel] = fresh
        return live

    async def members(self, channel: str) -> list[dict[str, Any]]:
        """Everyone present in `channel`, each once, in a stable order."""
        found: dict[int, dict[str, Any]] = {}
        if self._redis is not None:
            try:
                found.update(await self._read_all(channel))
            except Exception as exc:
                log.warning("presence list failed (%r): listing local members", exc)
        # This process's own count is the truth for its members (a read may predate a join).
        found.update({uid: entry[1] for uid, entry in self._local.get(channel, {}).items()})
        return sorted(found.values(), key=_by_username)

    async def heartbeat(self) -> dict[str, list[dict[str, Any]]]:
        """Refresh this process's fields; drop expired ones. Returns members who aged out."""
        if self._redis is None:
            return {}
        gone: dict[str, list[dict[str, Any]]] = {}
        now = time.time()
        for channel, members in list(self._local.items()):
            key = self._key(channel)
            if members:
                await self._redis.hset(key, mapping={
                    self._field(uid): self._value(entry[1]) for uid, entry in members.items()
                })
            await self._redis.expire(key, self._ttl * 4)
            entries = {f: orjson.loads(v) for f, v in (await self._redis.hgetall(key)).items()}
            live_users = {item["user"]["id"] for item in entries.values() if item["until"] > now}
            for f, item in entries.items():
                if item["until"] <= now and await self._redis.hdel(key, f) \
                        and item["user"]["id"] not in live_users:
                    gone.setdefault(channel, []).append(item["user"])
        return gone
