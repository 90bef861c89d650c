"""The one wait for something another process is getting ready (a server, a broker, a state
its health check reports): poll, bounded by a deadline, and stop early if the process died.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable


class NotReady(Exception):
    """The deadline passed; the message is the last reason `check` gave."""


class Exited(Exception):
    """The process being waited for exited first."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exited with {code}")
        self.code = code


def wait_until(check: Callable[[], str | None], *, timeout: float,
               proc: subprocess.Popen[bytes] | None = None, interval: float = 0.05) -> None:
    """Call `check` until it returns None (ready); until then it returns why it is not.

    Raises Exited when `proc` ends first and NotReady (with the last reason) after `timeout`
    seconds. Polling is the only way to see another process get ready; `interval` is short
    next to any timeout here and every wait is bounded by the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise Exited(proc.returncode)
        reason = check()
        if reason is None:
            return
        if time.monotonic() > deadline:
            raise NotReady(reason)
        time.sleep(interval)
