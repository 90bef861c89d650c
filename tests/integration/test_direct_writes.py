"""The fast path is on under the pinned uvicorn, as `collab serve` runs it.

If a uvicorn upgrade changed the protocol object DirectWriter reaches into, every socket would
quietly fall back to ASGI sends (correct, but about twice the CPU per delivery): this test
notices.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support.waiting import Exited, wait_until
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(port: int) -> str | None:
    """None once the port accepts a connection."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return None
    except OSError as exc:
        return repr(exc)


@pytest.mark.parametrize("deflate", [False, True])
def test_direct_writes_are_on_exactly_when_no_extension_is_negotiated(deflate: bool) -> None:
    port = _free_port()
    code = ("import uvicorn; uvicorn.run('support.direct_app:app', host='127.0.0.1', "
            f"port={port}, ws='websockets-sansio', http='httptools', loop='uvloop', "
            f"ws_per_message_deflate={deflate}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT / "tests",
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until(lambda: _refused(port), timeout=30, proc=proc)
        except Exited:
            raise AssertionError(proc.stdout.read().decode()) from None  # type: ignore[union-attr]
        with connect(f"ws://127.0.0.1:{port}/", compression="deflate" if deflate else None,
                     open_timeout=10) as ws:
            answer = ws.recv(timeout=10)
        assert answer == ("direct=off" if deflate else "direct=on")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
