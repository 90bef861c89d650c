"""The loop-lag guard: a test during which a server's event loop was held too long fails.

Every test server appends one line per stall of 100 ms or more to its `LOOP_STALL_LOG` file
(`unix time at its end, lag ms, CPU ms the process used meanwhile, pid`; collab/looplag.py).
The guard notes the time a test starts and, after the test and its servers' teardown, reads
the files of every server that ran during it: a stall that overlaps the test and passes
`LIMIT_MS` fails it with the figure. Servers still running are asked `/healthz` first: it
records a stall that has just ended but whose wake-up had not yet run.

Why 250 ms and why the CPU figure: the wire contract bounds what one input may hold the loop
for at 100 ms, but on a loaded 2-core CI machine the same work takes two to three times as long
in wall time, and a process may wait for a core without doing anything. A stall counts as
the server's own when it both lasted `LIMIT_MS` and the process spent at least
`OWN_CPU_SHARE` of it running: a process merely descheduled (CPU near 0) is the machine's
doing and is reported, never failed. The quadratic paths this guard exists to find burn CPU
for seconds, far above both bounds.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from .servers import RUNNING, STARTED, LiveServer

LIMIT_MS = 250.0
OWN_CPU_SHARE = 0.5


@dataclass(frozen=True)
class Stall:
    server: str
    ended: float  # unix time
    lag_ms: float
    cpu_ms: float
    pid: int

    @property
    def own(self) -> bool:
        """Held by the process itself (it ran), not only waiting for a core."""
        return self.lag_ms >= LIMIT_MS and self.cpu_ms >= OWN_CPU_SHARE * LIMIT_MS

    def __str__(self) -> str:
        return (f"{self.server} (pid {self.pid}): event loop held {self.lag_ms:.0f} ms "
                f"({self.cpu_ms:.0f} ms of CPU), ended at {self.ended:.3f}")


def read_stalls(server: LiveServer, since: float, until: float) -> list[Stall]:
    """The stalls recorded in `server`'s file that overlap [since, until]."""
    path = Path(server.stall_log)
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        ended, lag_ms, cpu_ms, pid = float(parts[0]), float(parts[1]), float(parts[2]), \
            int(parts[3])
        if ended >= since and ended - lag_ms / 1000 <= until:
            found.append(Stall(server.name, ended, lag_ms, cpu_ms, pid))
    return found


class LoopGuard:
    """Started before a test; `finish()` after its teardown lists the stalls during it."""

    def __init__(self) -> None:
        self.started = time.time()
        self.servers = list(RUNNING)
        self._first_new = len(STARTED)

    def finish(self) -> list[Stall]:
        servers = {id(s): s for s in [*self.servers, *STARTED[self._first_new:], *RUNNING]}
        for server in servers.values():
            if server.running:
                with contextlib.suppress(httpx2.HTTPError):
                    httpx2.get(f"{server.base_url}/healthz", timeout=5, trust_env=False)
        until = time.time()
        return [stall for server in servers.values()
                for stall in read_stalls(server, self.started, until)]


def verdict(stalls: list[Stall]) -> str | None:
    """The failure message for the stalls that fail a test, or None."""
    own = [stall for stall in stalls if stall.own]
    if not own:
        return None
    worst = max(own, key=lambda stall: stall.lag_ms)
    return (f"a server's event loop stalled over {LIMIT_MS:.0f} ms during this test "
            f"(worst {worst.lag_ms:.0f} ms): the no-input-holds-the-loop rule "
            "(PROTOCOL.md, Operations) is broken somewhere in what it did:\n"
            + "\n".join(f"  {stall}" for stall in own))
