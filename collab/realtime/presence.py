"""Presence: the members (not sockets) present in each channel, in username order.

A webinar may hold ten thousand people, so nobody is sent the whole list: `joined` and
`presence` frames name the first `HEAD` members by username and carry the count, and
`page(after=…)` reads the rest. Every read here is bounded by the page asked for, not by the
size of the crowd.

In one process (`memory://`) counting sockets per member is the whole truth; the members are
kept in a sorted list per channel. With Redis, two keys per channel: a hash of
`{user_id}:{process}` fields with an expiry (refreshed on a heartbeat, so a crashed process's
members age out after PRESENCE_TTL_SECONDS) and a sorted set of `username NUL user-json`
entries (all scored 0, so ordered by username) from which the count, the first page and any
later page are read. A member leaves the sorted set when their last live field goes; each
heartbeat puts this process's members back and removes entries with no live field, so a race
between processes is repaired within a heartbeat.
"""

from __future__ import annotations

import bisect
import logging
import operator
import time
from collections import defaultdict
from typing import Any, NamedTuple

import orjson

from .channels import Actor

log = logging.getLogger("collab.presence")

# How many members `joined`, `presence` frames and one page name.
HEAD = 100
ORIGINS = "collab:presence-origins"
REDIS_CONNECTIONS = 16
_username = operator.itemgetter(0)


class Present(NamedTuple):
    """Some of a channel's members, in username order, and how many there are in all."""

    members: list[dict[str, Any]]
    count: int


NOBODY = Present([], 0)


class Presence:
    def __init__(self, redis_url: str | None, origin: str, ttl: int) -> None:
        self._url = redis_url
        self._origin = origin
        self._ttl = ttl
        self._redis: Any = None
        # channel -> user id -> [sockets in this process, public user dict]
        self._local: dict[str, dict[int, list[Any]]] = defaultdict(dict)
        # channel -> (username, user id) of this process's members, sorted
        self._order: dict[str, list[tuple[str, int]]] = {}
        # The processes whose fields may be live, read at most once a second.
        self._origins: tuple[float, list[str]] = (0.0, [])
        # Sorted-set entry -> its user dict: a crowd's pages decode each entry about once.
        self._decoded: dict[bytes, dict[str, Any]] = {}

    async def start(self) -> None:
        if self._url:
            from redis import asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError

            # A bounded pool that callers queue for: a crowd of a thousand joining at once
            # otherwise opened a thousand Redis connections (each one a handshake and, in
            # redis-py, a package-metadata lookup), then closed them.
            # After Redis restarts, every pooled connection is dead and the first command on
            # each failed ("Connection closed by server"): a member joining then was counted
            # locally only. A command that finds its connection closed is tried once more on
            # a fresh one. Timeouts are not retried: a stalled Redis would cost twice as long.
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url, max_connections=REDIS_CONNECTIONS, timeout=5,
                socket_connect_timeout=2, socket_timeout=2,
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
            self._redis = aioredis.Redis.from_pool(pool)
            try:
                await self._announce()
            except Exception as exc:
                log.warning("presence could not announce this process (%r)", exc)

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    @staticmethod
    def _key(channel: str) -> str:
        return f"collab:presence:{channel}"

    @staticmethod
    def _names(channel: str) -> str:
        return f"collab:presence-names:{channel}"

    def _field(self, user_id: int, origin: str | None = None) -> str:
        return f"{user_id}:{origin or self._origin}"

    def _value(self, user: dict[str, Any]) -> bytes:
        return orjson.dumps({"until": time.time() + self._ttl, "user": user})

    @staticmethod
    def _entry(user: dict[str, Any]) -> bytes:
        return user["username"].encode() + b"\x00" + orjson.dumps(user)

    async def _announce(self) -> None:
        # Read with the fields: whose fields may hold a member (each process lists itself
        # here for as long as its own fields live).
        await self._redis.zadd(ORIGINS, {self._origin: time.time() + self._ttl})

    async def _live_origins(self) -> list[str]:
        at, origins = self._origins
        now = time.time()
        if now - at > 1.0:
            raw = await self._redis.zrangebyscore(ORIGINS, now, "+inf")
            origins = [o.decode() for o in raw]
            self._origins = (now, origins)
        return origins

    # -- arrivals and departures --------------------------------------------------------------
    async def add(self, channel: str, actor: Actor) -> bool:
        """Count one more socket of `actor` here; True when the member was not present before."""
        entry = self._local[channel].get(actor.id)
        if entry is not None:
            entry[0] += 1
            return False
        user = actor.public()
        self._local[channel][actor.id] = [1, user]
        bisect.insort(self._order.setdefault(channel, []), (actor.username, actor.id))
        if self._redis is None:
            return True
        try:
            others = await self._elsewhere(channel, actor.id)
            pipe = self._redis.pipeline(transaction=False)
            pipe.hset(self._key(channel), self._field(actor.id), self._value(user))
            pipe.zadd(self._names(channel), {self._entry(user): 0})
            await pipe.execute()
            return not others
        except Exception as exc:
            log.warning("presence add failed (%r): counted locally only", exc)
            return True

    async def remove(self, channel: str, actor: Actor) -> bool:
        """One socket fewer; True when the member has left the channel everywhere."""
        members = self._local.get(channel)
        entry = members.get(actor.id) if members else None
        if members is None or entry is None:
            return False
        entry[0] -= 1
        if entry[0] > 0:
            return False
        del members[actor.id]
        order = self._order.get(channel, [])
        at = bisect.bisect_left(order, (entry[1]["username"], actor.id))
        if at < len(order) and order[at][1] == actor.id:
            del order[at]
        if not members:
            self._local.pop(channel, None)
            self._order.pop(channel, None)
        if self._redis is None:
            return True
        try:
            await self._redis.hdel(self._key(channel), self._field(actor.id))
            if await self._elsewhere(channel, actor.id):
                return False
            name = entry[1]["username"].encode()
            await self._redis.zremrangebylex(self._names(channel), b"[" + name + b"\x00",
                                             b"(" + name + b"\x01")
            return True
        except Exception as exc:
            log.warning("presence remove failed: %r", exc)
            return True

    async def _elsewhere(self, channel: str, user_id: int) -> bool:
        """Whether another process holds a live field for this member: one HMGET of one field
        per process, whatever the size of the crowd."""
        fields = [self._field(user_id, o) for o in await self._live_origins() if o != self._origin]
        if not fields:
            return False
        now = time.time()
        values = await self._redis.hmget(self._key(channel), fields)
        return any(v is not None and orjson.loads(v)["until"] > now for v in values)

    # -- reading ------------------------------------------------------------------------------
    async def head(self, channel: str, limit: int = HEAD) -> Present:
        """The first `limit` members by username and the count."""
        return await self.page(channel, None, limit)

    async def page(self, channel: str, after: str | None, limit: int | None = HEAD) -> Present:
        """Members whose username sorts after `after` (all when None), at most `limit`, and the
        count of everyone present."""
        if self._redis is not None:
            try:
                return await self._page_redis(channel, after, limit)
            except Exception as exc:
                log.warning("presence list failed (%r): listing local members", exc)
        return self._page_local(channel, after, limit)

    def _page_local(self, channel: str, after: str | None, limit: int | None) -> Present:
        order = self._order.get(channel)
        if not order:
            return NOBODY
        start = 0 if after is None else bisect.bisect_right(order, after, key=_username)
        stop = len(order) if limit is None else start + limit
        local = self._local[channel]
        return Present([local[uid][1] for _, uid in order[start:stop]], len(order))

    async def _page_redis(self, channel: str, after: str | None, limit: int | None) -> Present:
        names = self._names(channel)
        low = b"-" if after is None else b"[" + after.encode() + b"\x01"
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(names)
        if limit is None:
            pipe.zrangebylex(names, low, b"+")
        else:
            pipe.zrangebylex(names, low, b"+", start=0, num=limit)
        count, raw = await pipe.execute()
        decoded = self._decoded
        if len(decoded) > 50_000:
            decoded.clear()
        members = []
        for item in raw:
            user = decoded.get(item)
            if user is None:
                user = decoded[item] = orjson.loads(item[item.index(b"\x00") + 1:])
            members.append(user)
        return Present(members, int(count))

    async def members(self, channel: str) -> list[dict[str, Any]]:
        """Everyone present in `channel`, each once, by username (small channels only)."""
        return (await self.page(channel, None, None)).members

    # -- upkeep -------------------------------------------------------------------------------
    async def heartbeat(self) -> dict[str, list[dict[str, Any]]]:
        """Refresh this process's fields and entries; drop expired fields and entries with no
        live field. Returns the members who left that way, per channel."""
        if self._redis is None:
            return {}
        await self._announce()
        await self._redis.zremrangebyscore(ORIGINS, "-inf", time.time() - 60 * self._ttl)
        gone: dict[str, list[dict[str, Any]]] = {}
        for channel, members in list(self._local.items()):
            key, names = self._key(channel), self._names(channel)
            pipe = self._redis.pipeline(transaction=False)
            if members:
                pipe.hset(key, mapping={
                    self._field(uid): self._value(entry[1]) for uid, entry in members.items()})
                pipe.zadd(names, {self._entry(entry[1]): 0 for entry in members.values()})
            pipe.expire(key, self._ttl * 4)
            pipe.expire(names, self._ttl * 4)
            await pipe.execute()
            # The entries first: a field is written before its entry, so an entry read here
            # has its field in the hash read next.
            entries = await self._redis.zrange(names, 0, -1)
            fields = await self._redis.hgetall(key)
            now = time.time()
            live: set[int] = set()
            for f, v in fields.items():
                item = orjson.loads(v)
                if item["until"] > now:
                    live.add(item["user"]["id"])
                else:
                    await self._redis.hdel(key, f)
            for raw in entries:
                user = orjson.loads(raw[raw.index(b"\x00") + 1:])
                if user["id"] not in live and await self._redis.zrem(names, raw):
                    gone.setdefault(channel, []).append(user)
        return gone
