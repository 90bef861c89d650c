"""Per-socket limits: a token bucket for sends and a one-minute window for bad frames."""

from __future__ import annotations

import time


class TokenBucket:
    """`rate` per second with a burst of twice that; rate 0 means unlimited."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.capacity = 2 * rate
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
        self.stamps: list[float] = []

    def hit(self) -> bool:
        now = time.monotonic()
        cutoff = now - self.seconds
        if self.stamps and self.stamps[0] < cutoff:
            self.stamps = [s for s in self.stamps if s >= cutoff]
        self.stamps.append(now)
        return len(self.stamps) > self.limit
