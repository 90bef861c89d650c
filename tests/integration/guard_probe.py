"""Run by test_loop_lag.py in a pytest of its own (the name keeps it out of the suite): one
test whose server stalls, which the loop-lag guard must fail, and one that must pass."""

from __future__ import annotations

import os
import signal

import httpx2
from support.api import Api, setup_forum
from support.servers import ServerFactory

STALL_MS = 400


def test_quiet_server(live_server: ServerFactory) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        api.register()
        setup_forum(api)
        assert api.http.get("/rooms").status_code == 200


def test_stalled_server(live_server: ServerFactory) -> None:
    server = live_server(env={"COLLAB_TEST_STALL_MS": str(STALL_MS)})
    os.kill(server.pid, signal.SIGUSR2)  # the server holds its loop, burning CPU
    # Answered once the loop is free again; the test itself sees nothing wrong.
    assert httpx2.get(f"{server.base_url}/healthz", timeout=10, trust_env=False).status_code == 200
