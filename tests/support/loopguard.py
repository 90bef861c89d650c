"""The loop-lag guard: a test during which a server's event loop was held too long fails.

Every test server appends one line per stall of 100 ms or more to its `LOOP_STALL_LOG` file
(`unix time at its end, lag ms, CPU ms its loop's thread used meanwhile, pid`; looplag.py).
The guard notes the time a test starts and, after the test and its servers' teardown, reads
the files of every server that ran during it: a stall that overlaps the test and passes
`LIMIT_MS` fails it with the figure. Servers still running are asked `/healthz` first: it
records a stall that has just ended but whose wake-up had not yet run.

Why the CPU figure: the wire contract bounds what one input may hold the loop for at 100 ms
and the issue that asked for this guard puts its line at 250 ms; but on a loaded 2-core CI
machine a process waits for a core for long stretches (measured here with a load average of
8-13: sleeps woke 0.1-2.6 s late while the loop's thread had used 0-160 ms of CPU), so wall
time alone would fail tests at random. A stall fails a test when it lasted `LIMIT_MS` and the
loop's own thread spent at least `LIMIT_MS` of CPU in it: that is work the process did while
holding its loop, whatever the machine's load (on a quiet machine the two figures agree). The
quadratic paths this guard exists to find burn seconds of CPU. Stalls below the bar are still
listed in a failing test's report.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from .servers import RUNNING, STARTED, LiveServer

LIMIT_MS = 250.0


@dataclass(frozen=True)
class Stall:
    server: str
    ended: float  # unix time
    lag_ms: float
    cpu_ms: float
    pid: int

    @property
    def own(self) -> bool:
        """Held by the process's own work (its loop's thread ran), not waiting for a core."""
        return self.lag_ms >= LIMIT_MS and self.cpu_ms >= LIMIT_MS

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
            + "\n".join(f"  {stall}" for stall in own)
            + "".join(f"\n  (below the bar) {stall}" for stall in stalls if not stall.own))
