"""`collab serve` as production runs it (the Procfile's command): the server's own frame limit,
and secrets kept out of the log; plain uvicorn redacts too (issue 7, items 4 and 5)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from support.api import Api
from support.servers import LiveServer, migrate, server_env, sqlite_url
from support.wsclient import WSClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.anyio

LOG_TIMEOUT = 10.0


class CollabServe(LiveServer):
    """`collab serve --no-migrate --access-log` on a loopback port."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "collab.cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-migrate", "--access-log"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollabServe]:
    root = tmp_path_factory.mktemp("collab-serve")
    env = server_env({"DATABASE_URL": sqlite_url(root / "db")})
    migrate(env, root)
    server = CollabServe(root, env, name="collab-serve")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for_log(server: LiveServer, needle: str) -> str:
    """The server's log once `needle` is in it (log lines are written as things happen)."""
    deadline = time.monotonic() + LOG_TIMEOUT
    while True:
        text = Path(server.stderr_path).read_text() + Path(server.stdout_path).read_text()
        if needle in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not in {server.name}'s log:\n{text[-2000:]}")
        time.sleep(0.05)  # polling a file, bounded by the deadline


async def _socket_secrets_are_redacted(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        user = api.register()
    marker = f"probe{time.monotonic_ns()}"
    sock = await WSClient.connect(f"{server.ws_url}?{marker}=1", token=user.token)
    await sock.ping()
    await sock.close()
    bogus = "bogus-secret-" + marker
    with pytest.raises(Exception, match="403"):
        await WSClient.connect(f"{server.ws_url}?{marker}=2", token=bogus)
    text = wait_for_log(server, f"{marker}=2")
    assert user.token not in text and bogus not in text
    assert f"/ws?{marker}=1&token=[redacted]" in text, text[-2000:]


async def test_collab_serve_redacts_socket_and_access_log_secrets(served: CollabServe) -> None:
    await _socket_secrets_are_redacted(served)
    marker = f"http{time.monotonic_ns()}"
    with httpx2.Client(base_url=served.base_url, trust_env=False) as http:
        assert http.get(f"/healthz?{marker}=1&token=hunter2-secret&access_token=x9").status_code \
            == 200
    text = wait_for_log(served, marker)
    assert "hunter2-secret" not in text and "access_token=x9" not in text
    assert f"/healthz?{marker}=1&token=[redacted]&access_token=[redacted]" in text


async def test_plain_uvicorn_redacts_socket_secrets(server: LiveServer) -> None:
    await _socket_secrets_are_redacted(server)


async def test_collab_serve_does_not_read_a_huge_frame(served: CollabServe) -> None:
    """uvicorn's default read 16 MiB before the app's 64 KiB check; `collab serve` bounds it."""
    async with connect(served.ws_url, max_size=None, ping_interval=None, proxy=None) as ws:
        # Over WS_MAX_FRAME_BYTES (64 KiB) but within twice that: read, answered too_large,
        # and the socket stays open (PROTOCOL.md).
        await ws.send('{"op":"ping","ref":"big","pad":"' + "x" * 70_000 + '"}')
        assert '"too_large"' in await ws.recv()
        await ws.send('{"op":"ping","ref":"p"}')
        assert '"pong"' in await ws.recv()
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            await ws.send("x" * (16 * 1024 * 1024))
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
    assert time.monotonic() - started < 10
    # The server is fine.
    with httpx2.Client(base_url=served.base_url, trust_env=False) as http:
        assert http.get("/healthz").json()["status"] == "ok"
