"""Network namespaces as machines: `ip netns`, veth pairs, and running code inside one.

Every address lives inside a namespace this test made (none on the machine's own interfaces),
so the test's traffic goes only to loopback or to its own namespaces, and fixed ports (443,
5432, 6379, 8001) are free in each of them whatever else the machine runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*args: str, timeout: float = 30) -> str:
    """Run a command; its output, or raise with its error output."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,  # noqa: PLW1510
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def inside(path: str) -> Iterator[None]:
    """Move the calling thread into the network namespace at `path` (sockets it opens from now
    on live there) and back afterwards. Only this thread moves: setns is per thread."""
    back = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(path, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(back)
    finally:
        os.close(target)
        os.close(back)


class Netns:
    """One namespace (`ip netns add`), loopback up. `.exec(...)` prefixes a command for it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = f"/run/netns/{name}"
        sh("ip", "netns", "add", name)
        self.ip("link", "set", "lo", "up")

    def exec(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *args]

    def ip(self, *args: str) -> str:
        return sh("ip", "-n", self.name, *args)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` in a thread that lives in this namespace (e.g. a TCP probe); its result."""
        box: dict[str, object] = {}

        def run() -> None:
            try:
                with inside(self.path):
                    box["value"] = fn()
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        thread = threading.Thread(target=run, name=f"in-{self.name}")
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["value"]  # type: ignore[return-value]

    def delete(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            sh("ip", "netns", "del", self.name)


def link(a: Netns, a_addr: str, b: Netns, b_addr: str, prefix: int = 24) -> tuple[str, str]:
    """A veth pair between two namespaces with an address at each end; the two device names.
    The pair is made directly inside the namespaces, so the root namespace never sees it."""
    tag = uuid.uuid4().hex[:6]
    a_dev, b_dev = f"v{tag}a", f"v{tag}b"
    sh("ip", "link", "add", a_dev, "netns", a.name, "type", "veth",
       "peer", "name", b_dev, "netns", b.name)
    for ns, dev, addr in ((a, a_dev, a_addr), (b, b_dev, b_addr)):
        ns.ip("addr", "add", f"{addr}/{prefix}", "dev", dev)
        ns.ip("link", "set", dev, "up")
    return a_dev, b_dev
