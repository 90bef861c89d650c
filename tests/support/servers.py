"""Live collab servers: real uvicorn processes on loopback ports.

The integration tests talk to these over real sockets, the way clients do. Several servers may
share one database and one Redis, which is how the multi-process guarantees are tested.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx2
import psutil

from .services import free_port, tail
from .waiting import Exited, NotReady, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0  # generous: CI machines may be busy
STOP_TIMEOUT = 10.0

# Settings every test server gets unless a test overrides them. The socket send rate, the
# HTTP write rate and the per-address sign-in limits are off by default because every test
# posts, registers and signs in (some on purpose with wrong passwords) from one address,
# 127.0.0.1; the rate-limit tests turn them back on.
BASE_ENV: dict[str, str] = {
    "BROADCAST_URL": "memory://",
    "SECRET_KEY": "test-secret",
    "COLLAB_ENV": "test",
    "WS_SEND_RATE": "0",
    "HTTP_WRITES_PER_MINUTE": "0",
    "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "0",
}

# Variables of the developer's shell that would change what the server does under test.
_SCRUBBED = (
    "DATABASE_URL", "BROADCAST_URL", "SECRET_KEY", "COLLAB_ENV", "WS_MAX_FRAME_BYTES",
    "WS_OUTBOX_FRAMES", "WS_SEND_RATE", "WS_BAD_FRAMES_PER_MINUTE", "REPLAY_MAX_EVENTS",
    "SECRET_FILE", "LOGIN_ATTEMPTS_PER_MINUTE", "HTTP_WRITES_PER_MINUTE", "ALLOWED_ORIGINS",
    "PRESENCE_TTL_SECONDS", "WS_DIRECT_WRITES", "FORWARDED_ALLOW_IPS", "PORT",
    "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "TOKEN_TTL_DAYS", "METRICS_ALLOW", "LOOP_STALL_LOG",
    "COLLAB_TEST_STALL_MS",
    "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy",
)

_names = itertools.count(1)

# Every server started in this test process, so a failing test's report can show their logs.
RUNNING: list[LiveServer] = []
# Every server ever started here, in order (the loop-lag guard reads the stalls of those a
# test started, even when the test has stopped or killed them).
STARTED: list[LiveServer] = []


def sqlite_url(directory: Path) -> str:
    """A fresh SQLite database file URL in `directory` (platform form, without a driver)."""
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'collab.db'}"


def server_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(BASE_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in (overrides or {}).items()})
    return env


def run_cli(env: Mapping[str, str], *args: str) -> str:
    """Run `python -m collab.cli ARGS` with a server's environment; its output, or raise."""
    proc = subprocess.run(  # noqa: PLW1510 - returncode is checked below
        [sys.executable, "-m", "collab.cli", *args],
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"collab {' '.join(args[:1])} failed ({proc.returncode}) for "
            f"{env.get('DATABASE_URL')}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout + proc.stderr


def migrate(env: Mapping[str, str], workdir: Path) -> None:
    """Run `python -m collab.cli migrate` with the server's environment; raise with its output."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "migrate.log").write_text(run_cli(env, "migrate"))


class PortTaken(RuntimeError):
    """uvicorn could not bind: another process took the port after free_port() chose it."""


class LiveServer:
    """One `uvicorn collab.app:app` process with its own port and captured logs."""

    def __init__(self, workdir: Path, env: Mapping[str, str], name: str | None = None) -> None:
        self.name = name or f"server{next(_names)}"
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(env)
        self.port = free_port()
        self.stdout_path = workdir / f"{self.name}.stdout.log"
        self.stderr_path = workdir / f"{self.name}.stderr.log"
        # Each event-loop stall of 100 ms or more, one line each (collab/looplag.py).
        self.stall_log = Path(self.env.setdefault("LOOP_STALL_LOG",
                                                  str(workdir / f"{self.name}.stalls")))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return self.base_url

    def cli(self, *args: str) -> str:
        """`collab ARGS` against this server's database (e.g. `createuser --role admin`)."""
        return run_cli(self.env, *args)

    @property
    def pid(self) -> int:
        assert self._proc is not None, f"{self.name} is not running"
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time the server process has used (all its threads): what a request cost it,
        read before and after, whatever else the machine runs."""
        assert self._proc is not None
        times = psutil.Process(self._proc.pid).cpu_times()
        return float(times.user + times.system)

    def logs(self) -> str:
        return (
            f"--- {self.name} ({self.base_url}, DATABASE_URL={self.env.get('DATABASE_URL')}, "
            f"BROADCAST_URL={self.env.get('BROADCAST_URL')}) stderr ---\n"
            f"{tail(self.stderr_path)}\n--- {self.name} stdout ---\n{tail(self.stdout_path)}"
        )

    def start(self, timeout: float = READY_TIMEOUT, attempts: int = 3) -> None:
        """Start and wait for `/healthz`; a port taken meanwhile by another process is retried
        on a fresh port (free_port() can only promise the port was free when it looked)."""
        for attempt in range(1, attempts + 1):
            self._spawn()
            try:
                self._wait_ready(timeout)
                return
            except PortTaken:
                if attempt == attempts:
                    raise
                self.port = free_port()

    def command(self) -> list[str]:
        """The server's command line: plain uvicorn (a subclass may run `collab serve`)."""
        return [
            sys.executable, "-m", "uvicorn", "collab.app:app",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "info",
            "--no-access-log",  # readiness polls would drown the interesting lines
        ]

    def _spawn(self) -> None:
        args = self.command()
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self._proc = subprocess.Popen(
                args, env=self.env, cwd=REPO_ROOT, stdout=out, stderr=err,
                stdin=subprocess.DEVNULL,
            )
        RUNNING.append(self)
        if self not in STARTED:
            STARTED.append(self)

    def _listening(self) -> bool:
        """Whether our own process holds the port (not some other server answering on it)."""
        assert self._proc is not None
        try:
            conns = psutil.Process(self._proc.pid).net_connections(kind="tcp")
        except psutil.Error:
            return False
        return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.port
                   for c in conns)

    def _health(self, http: httpx2.Client) -> str | None:
        """None once /healthz says ok and the port listens; else why not."""
        try:
            r = http.get("/healthz")
            if r.status_code == 200 and r.json().get("status") == "ok" and self._listening():
                return None
            return f"GET /healthz -> {r.status_code} {r.text[:200]}"
        except httpx2.TransportError as exc:
            return repr(exc)
        except ValueError as exc:
            return f"GET /healthz body is not JSON: {exc}"

    def _wait_ready(self, timeout: float) -> None:
        with httpx2.Client(base_url=self.base_url, timeout=2.0, trust_env=False) as http:
            try:
                wait_until(lambda: self._health(http), timeout=timeout, proc=self._proc)
            except Exited as exc:
                self.stop()
                if "address already in use" in tail(self.stderr_path, 2000):
                    raise PortTaken(f"{self.name}: port {self.port} was taken") from None
                raise RuntimeError(f"{self.name} {exc} at start:\n{self.logs()}") from None
            except NotReady as exc:
                self.stop()
                raise RuntimeError(
                    f"{self.name} not ready in {timeout}s ({exc}):\n{self.logs()}") from None

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it hangs."""
        proc, self._proc = self._proc, None
        if self in RUNNING:
            RUNNING.remove(self)
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __repr__(self) -> str:
        return f"<LiveServer {self.name} {self.base_url} running={self.running}>"


class ServerFactory:
    """Starts servers for one scope and stops them all at its end.

    `start()` runs migrations once per database URL (so two servers sharing a database migrate it
    once, before either starts) and then starts uvicorn.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[LiveServer] = []
        self._migrated: set[str] = set()
        self._dbs = itertools.count(1)

    def new_sqlite_url(self) -> str:
        return sqlite_url(self.root / f"db{next(self._dbs)}")

    def start(
        self,
        *,
        database_url: str | None = None,
        broadcast_url: str = "memory://",
        env: Mapping[str, str] | None = None,
        name: str | None = None,
        timeout: float = READY_TIMEOUT,
    ) -> LiveServer:
        database_url = database_url or self.new_sqlite_url()
        full_env = server_env(
            {"DATABASE_URL": database_url, "BROADCAST_URL": broadcast_url, **(env or {})}
        )
        server = LiveServer(self.root / "servers", full_env, name=name)
        if database_url not in self._migrated:
            migrate(full_env, server.workdir)
            self._migrated.add(database_url)
        self.servers.append(server)
        server.start(timeout=timeout)
        return server

    def __call__(
        self,
        *,
        database_url: str | None = None,
        broadcast_url: str = "memory://",
        env: Mapping[str, str] | None = None,
        name: str | None = None,
        timeout: float = READY_TIMEOUT,
    ) -> LiveServer:
        """Same as `start()`, so the fixture reads `live_server(env={...})`."""
        return self.start(database_url=database_url, broadcast_url=broadcast_url, env=env,
                          name=name, timeout=timeout)

    def logs(self) -> str:
        return "\n".join(s.logs() for s in self.servers)

    def stop_all(self) -> None:
        for server in reversed(self.servers):
            with contextlib.suppress(Exception):
                server.stop()
