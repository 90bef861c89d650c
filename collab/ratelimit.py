"""In-process sliding-window limits keyed by client (login attempts, HTTP writes)."""

from __future__ import annotations

import time
from collections import deque


class KeyedLimiter:
    """At most `limit` hits per key in `seconds`; limit 0 turns it off."""

    def __init__(self, limit: int, seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> bool:
        """Record a hit; False when the key is over its limit (the hit is not counted)."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._prune(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str) -> int:
        hits = self._hits.get(key)
        if not hits:
            return 0
        return max(1, int(hits[0] + self.seconds - time.monotonic()) + 1)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.seconds]:
            del self._hits[key]
