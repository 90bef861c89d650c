"""Rate limits, in one place: a token bucket, a one-minute window, and a keyed limiter.

Used by the hub (per socket: sends, bad frames) and by the web layer (per client: sign-in
attempts, HTTP writes). Nothing here imports the rest of collab.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque


class TokenBucket:
    """`rate` per second with a burst of `burst` (twice the rate unless given); 0 = unlimited."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = 2 * rate if burst is None else burst
        self.tokens = float(self.capacity)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class WindowCounter:
    """Counts events in the last `seconds`; `hit()` says whether the limit is passed."""

    __slots__ = ("limit", "seconds", "stamps")

    def __init__(self, limit: int, seconds: float = 60.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def hit(self) -> bool:
        now = time.monotonic()
        cutoff = now - self.seconds
        stamps = self.stamps
        while stamps and stamps[0] < cutoff:
            stamps.popleft()
        stamps.append(now)
        return len(stamps) > self.limit


class KeyedLimiter:
    """At most `limit` hits per key in `seconds`; limit 0 turns it off.

    Memory is bounded: at most `max_keys` keys are tracked (the least recently used go
    first), and each key keeps at most `limit` timestamps, so a client inventing keys
    cannot grow it without bound.
    """

    def __init__(self, limit: int, seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _window(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            while len(self._hits) >= self.max_keys:
                self._hits.popitem(last=False)
            hits = self._hits[key] = deque()
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        return hits

    def allowed(self, key: str) -> bool:
        """Whether one more hit would be within the limit (nothing is counted)."""
        if self.limit <= 0:
            return True
        return len(self._window(key, time.monotonic())) < self.limit

    def hit(self, key: str) -> bool:
        """Record a hit; False when the key is over its limit (the hit is not counted)."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        hits = self._window(key, now)
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def release(self, key: str) -> None:
        """Take back the key's latest hit (an attempt that turned out not to count)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    def forget(self, key: str) -> None:
        """Drop a key's hits (a successful sign-in does not count against the next one)."""
        self._hits.pop(key, None)

    def retry_after(self, key: str) -> int:
        hits = self._hits.get(key)
        if not hits:
            return 0
        return max(1, int(hits[0] + self.seconds - time.monotonic()) + 1)
