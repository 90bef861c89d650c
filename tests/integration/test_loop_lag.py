"""The event loop's lag: `/healthz` reports it and answers at once under load, and the suite's
guard fails a test during which a server's loop was held (PROTOCOL.md, Operations)."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from support.api import Forum
from support.loopguard import LIMIT_MS, read_stalls
from support.servers import REPO_ROOT, LiveServer, ServerFactory
from support.wsclient import WSClient
from websockets.asyncio.client import connect

PROBE = Path(__file__).with_name("guard_probe.py")


def _healthz(server: LiveServer) -> dict[str, object]:
    r = httpx2.get(f"{server.base_url}/healthz", timeout=10, trust_env=False)
    assert r.status_code == 200, r.text
    return r.json()


def test_healthz_reports_the_loop_lag(server: LiveServer) -> None:
    answer = _healthz(server)
    assert answer["database"] == "up" and answer["bus"] == "up", answer
    lag = answer["loop_lag_ms"]
    assert isinstance(lag, dict) and set(lag) == {"current", "max", "window_seconds"}, lag
    assert lag["window_seconds"] == 60
    assert 0 <= lag["current"] and 0 <= lag["max"], lag
    assert lag["max"] < LIMIT_MS, f"an idle shared server reports a stall: {lag}"


@pytest.mark.loop_stall
def test_a_stall_is_reported_by_healthz_and_recorded(live_server: ServerFactory) -> None:
    server = live_server(env={"COLLAB_TEST_STALL_MS": "400"})
    before = time.time()
    os.kill(server.pid, signal.SIGUSR2)
    lag = _healthz(server)["loop_lag_ms"]
    # The monitor's wake-up was due within 50 ms of the signal, so it saw 350-400 ms at least.
    assert lag["max"] >= 340, lag
    stalls = read_stalls(server, before, time.time())
    assert len(stalls) == 1 and stalls[0].lag_ms >= 340 and stalls[0].own, stalls
    assert "event loop was held for" in server.stderr_path.read_text()


@pytest.mark.anyio
async def test_healthz_answers_within_100_ms_while_the_server_fans_out(forum: Forum) -> None:
    """100 sockets in a thread and a writer posting without pause: /healthz (which touches no
    database or broker) still answers fast, since no callback holds the loop for long."""
    timings: list[float] = []
    posted = 0
    writer = await WSClient.connect(forum.server.ws_url, token=forum.admin.token, name="writer")

    async def read(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with connect(forum.server.ws_url, proxy=None, open_timeout=10) as ws:
            await ws.send(json.dumps({"op": "join", "ref": "j", "channel": forum.channel}))
            with anyio.fail_after(10):
                while '"joined"' not in str(await ws.recv()):
                    pass
            task_status.started()
            while len(timings) < 40:
                with anyio.move_on_after(0.5):
                    await ws.recv()

    async def write() -> None:
        nonlocal posted
        while len(timings) < 40:
            await writer.post(forum.channel, f"busy {posted}")
            posted += 1

    try:
        await writer.join_ok(forum.channel)
        async with anyio.create_task_group() as tasks, \
                httpx2.AsyncClient(base_url=forum.server.base_url, trust_env=False) as http:
            for _ in range(100):
                await tasks.start(read)
            tasks.start_soon(write)
            while posted < 5:
                await anyio.sleep(0.02)  # polling interval while the writer gets going
            while len(timings) < 40:
                started = time.perf_counter()
                r = await http.get("/healthz")
                timings.append(time.perf_counter() - started)
                assert r.status_code == 200
                await anyio.sleep(0.02)
    finally:
        await writer.close()
    assert posted >= 10, f"the writer only posted {posted} times: the server was not busy"
    median = statistics.median(timings)
    assert median < 0.1, f"/healthz took {median * 1000:.0f} ms (median of 40) under load"


def test_the_guard_fails_a_test_that_stalled_a_server_and_passes_a_quiet_one(
        tmp_path: Path) -> None:
    """guard_probe.py in a pytest of its own: its stalled test errors with the figure."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(PROBE), "-v", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "probe")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
        stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"guard_probe.py::test_quiet_server PASSED", out), out
    assert re.search(r"guard_probe.py::test_stalled_server ERROR", out), out
    assert "test_quiet_server ERROR" not in out, out
    # pytest counts the stalled test as passed (its body) and errored (the guard's teardown).
    assert "2 passed, 1 error" in out, out
    held = re.search(r"event loop held (\d+) ms \((\d+) ms of CPU\)", out)
    assert held is not None, out
    assert int(held.group(1)) >= 340 and int(held.group(2)) >= 340, held.group(0)
    assert "stalled over 250 ms during this test" in out, out

