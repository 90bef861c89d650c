"""How late the event loop runs: a task that sleeps 50 ms and measures how late it wakes.

A callback that holds the loop (a quadratic regular expression, a diff, Markdown on a huge
text) delays every timer, so the drift of one small periodic sleep is the time the loop was
held. `/healthz` reports the last figure and the largest of the last minute; `/metrics` exports
them; a stall of 250 ms or more is logged, and with `LOOP_STALL_LOG` set each stall of
100 ms or more is appended to that file (the integration tests read it to fail any test during
which a server stalled).

A late wake-up on a busy machine is not always the process's own doing: the kernel may simply
have run other processes. So each stall also records the CPU time the loop's own thread used
meanwhile: a stall the loop spent running (`cpu_ms` near `lag_ms`) is the process's doing, one
it spent waiting for a core (`cpu_ms` near 0) is the machine's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections import deque

log = logging.getLogger("collab.looplag")

INTERVAL = 0.05
# The largest lag of each second of the last minute: what `max` reports.
WINDOW_SECONDS = 60
# The wire contract's bound on what one input may hold the loop for (PROTOCOL.md, Operations).
RECORD_MS = 100.0
# Past this a stall is logged as a warning (the integration suite's guard uses the same figure).
WARN_MS = 250.0
# Under COLLAB_ENV=test only: SIGUSR2 holds the loop with this many ms of CPU work (a stall on
# demand, so the guard that catches stalls can itself be tested).
TEST_STALL_ENV = "COLLAB_TEST_STALL_MS"


class LoopLag:
    """Measures the event loop's lag; `start()` in the lifespan, `stop()` at its end."""

    def __init__(self, stall_log: str = "", interval: float = INTERVAL) -> None:
        self.interval = interval
        self.stall_log = stall_log
        self.current_ms = 0.0
        self.stalls = 0  # lags of RECORD_MS or more since start
        self._seconds: deque[tuple[int, float]] = deque(maxlen=WINDOW_SECONDS)
        self._due = 0.0
        self._cpu_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._signal = False

    def start(self, test_stalls: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self._due = loop.time() + self.interval
        self._cpu_at = time.thread_time()
        self._task = loop.create_task(self._run(), name="collab-loop-lag")
        stall_ms = os.environ.get(TEST_STALL_ENV, "")
        if test_stalls and stall_ms.isdigit():
            loop.add_signal_handler(signal.SIGUSR2, _hold, int(stall_ms) / 1000)
            self._signal = True

    async def stop(self) -> None:
        self.catch_up()  # a stall that ends the process is recorded too
        if self._signal:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR2)
            self._signal = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._due = loop.time() + self.interval
            self._cpu_at = time.thread_time()
            await asyncio.sleep(self.interval)
            self._observe(max(0.0, loop.time() - self._due))

    def catch_up(self) -> None:
        """Count a lag still under way (the loop is free now, but our wake-up has not run):
        `/healthz` calls this, so what it reports includes a stall that just ended."""
        if self._task is None:
            return
        late = asyncio.get_running_loop().time() - self._due
        if late > 0:
            self._observe(late)
            # Measured from here on, so the wake-up does not count the same stall again.
            self._due = asyncio.get_running_loop().time()
            self._cpu_at = time.thread_time()

    def _observe(self, late: float) -> None:
        ms = late * 1000
        self.current_ms = ms
        second = int(time.monotonic())
        seconds = self._seconds
        if seconds and seconds[-1][0] == second:
            if ms > seconds[-1][1]:
                seconds[-1] = (second, ms)
        else:
            seconds.append((second, ms))
        if ms >= RECORD_MS:
            self._stalled(ms)

    def _stalled(self, ms: float) -> None:
        self.stalls += 1
        cpu_ms = (time.thread_time() - self._cpu_at) * 1000
        if ms >= WARN_MS:
            log.warning("the event loop was held for %.0f ms (its thread used %.0f ms of CPU "
                        "meanwhile)", ms, cpu_ms)
        if self.stall_log:
            # One short line, rarely: a blocking append costs microseconds.
            try:
                with open(self.stall_log, "a") as out:
                    out.write(f"{time.time():.3f} {ms:.1f} {cpu_ms:.1f} {os.getpid()}\n")
            except OSError as exc:
                log.warning("could not append to LOOP_STALL_LOG %s: %s", self.stall_log, exc)

    def window_max_ms(self) -> float:
        """The largest lag of the last WINDOW_SECONDS seconds."""
        horizon = int(time.monotonic()) - WINDOW_SECONDS
        return max((ms for second, ms in self._seconds if second > horizon), default=0.0)

    def report(self) -> dict[str, float]:
        self.catch_up()
        return {"current": round(self.current_ms, 1), "max": round(self.window_max_ms(), 1),
                "window_seconds": WINDOW_SECONDS}


def _hold(seconds: float) -> None:
    """Hold the loop with `seconds` of CPU work, as a quadratic input would (on a loaded
    machine that takes longer in wall time, as real work does)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
