"""Sign-in limits: per client address and user name, and per client address alone.

One Argon2 check costs about 0.16 s of CPU and 64 MiB, so a limit per (address, name) alone
let one client keep a core busy by cycling through names. Only failed attempts count: a
member who mistyped twice and then signed in starts afresh, and a correct sign-in does not
use up the address's allowance (office networks share one address).
"""

from __future__ import annotations

from typing import Any

from collab.errors import RateLimited
from collab.limits import KeyedLimiter


class SignInLimiter:
    def __init__(self, per_name: int, per_address: int) -> None:
        self.by_name = KeyedLimiter(per_name)
        self.by_address = KeyedLimiter(per_address)

    @staticmethod
    def _name_key(address: str, username: Any) -> str:
        # Case-folded like the stored key, so "JO.CHEN" and "jo.chen" share one allowance;
        # at most 40 characters (no longer name exists), so keys stay small.
        name = username[:40].casefold()[:40] if isinstance(username, str) else ""
        return f"{address}\x1f{name}"

    def attempt(self, address: str, username: Any) -> None:
        """Count one attempt, or raise `rate_limited` (with the seconds to wait)."""
        name_key = self._name_key(address, username)
        for limiter, key in ((self.by_address, address), (self.by_name, name_key)):
            if not limiter.allowed(key):
                wait = limiter.retry_after(key)
                raise RateLimited(f"too many sign-in attempts; retry in {wait} s",
                                  retry_after=wait)
        self.by_address.hit(address)
        self.by_name.hit(name_key)

    def succeeded(self, address: str, username: Any) -> None:
        """The attempt signed someone in: it does not count against either limit."""
        self.by_name.forget(self._name_key(address, username))
        self.by_address.release(address)
