"""The fast path is on under the pinned uvicorn, as `collab serve` runs it.

If a uvicorn upgrade changed the protocol object DirectWriter reaches into, every socket would
quietly fall back to ASGI sends (correct, but about twice the CPU per delivery): this test
notices.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("deflate", [False, True])
def test_direct_writes_are_on_exactly_when_no_extension_is_negotiated(deflate: bool) -> None:
    port = _free_port()
    code = ("import uvicorn; uvicorn.run('support.direct_app:app', host='127.0.0.1', "
            f"port={port}, ws='websockets-sansio', http='httptools', loop='uvloop', "
            f"ws_per_message_deflate={deflate}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT / "tests",
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.05)
        with connect(f"ws://127.0.0.1:{port}/", compression="deflate" if deflate else None,
                     open_timeout=10) as ws:
            answer = ws.recv(timeout=10)
        assert answer == ("direct=off" if deflate else "direct=on")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
