"""Throwaway Redis and PostgreSQL servers for the integration tests.

Each test session (or test) gets its own server on a free loopback port, in its own directory, so
tests never depend on a service the machine happens to run, and a test may stop and restart its
Redis to simulate a broker outage.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

from .waiting import Exited, NotReady, wait_until

READY_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port that nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: Path, limit: int = 8000) -> str:
    """The end of a log file, for failure messages."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "<no log>"
    return text[-limit:]


def _redis_ping(port: int, timeout: float = 0.5) -> bool:
    # A raw RESP PING keeps this module free of a client library and its connection pools.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A real `redis-server` from PATH on a fixed loopback port, restartable on that same port."""

    def __init__(self, directory: Path, port: int | None = None, binary: str | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.binary = binary or shutil.which("redis-server") or "/usr/bin/redis-server"
        self.log_path = self.directory / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        if self.running:
            return
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.directory),
            "--logfile", "",
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            wait_until(lambda: None if _redis_ping(self.port) else "no PONG", timeout=timeout,
                       proc=self._proc, interval=0.02)
        except Exited as exc:
            self._proc = None
            raise RuntimeError(f"redis-server {exc}:\n{tail(self.log_path)}") from None
        except NotReady:
            self.stop()
            raise RuntimeError(f"redis-server not ready in {timeout}s:\n{tail(self.log_path)}") \
                from None

    def stop(self) -> None:
        """Stop the server and wait until the port refuses connections."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing is answered."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def __repr__(self) -> str:
        return f"<RedisServer {self.url} running={self.running}>"


def _postgres_bin_dir() -> Path:
    # Debian installs versioned binaries outside PATH; prefer 15 (what production runs).
    preferred = Path("/usr/lib/postgresql/15/bin")
    if (preferred / "initdb").exists():
        return preferred
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).parent
    raise RuntimeError("PostgreSQL binaries not found (apt-get install -y postgresql)")


class PostgresCluster:
    """A throwaway PostgreSQL cluster: initdb + pg_ctl, run as the `postgres` OS user when root.

    PostgreSQL refuses to run as root, so as root every command goes through `runuser`, and the
    data directory lives under a fresh /tmp directory that the `postgres` user owns (pytest's own
    tmp dirs are mode 700 for root and cannot be traversed by another user).
    """

    def __init__(self, port: int | None = None) -> None:
        self.bin = _postgres_bin_dir()
        self.port = port or free_port()
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="collab-pg-"))
        self.data = self.base / "data"
        self.log_path = self.base / "postgres.log"
        self._started = False
        if self.as_root:
            os.chmod(self.base, 0o755)
            shutil.chown(self.base, user="postgres", group="postgres")

    def _cmd(self, *args: str) -> list[str]:
        if self.as_root:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str) -> str:
        proc = subprocess.run(  # noqa: PLW1510 - returncode is checked below
            self._cmd(*args),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            cwd=self.base,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                f"{tail(self.log_path)}"
            )
        return proc.stdout

    def start(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        self.up()
        self._started = True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._run(str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                         "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                         "-X", "-A", "-t", "-c", sql)

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its URL (platform form, without a driver)."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def down(self) -> None:
        """Stop the server but keep its data (a database outage); `up()` starts it again."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop_smart(self) -> None:
        """Begin a smart shutdown and return at once: sessions already open go on, every new
        connection is refused ("the database system is shutting down") until they end."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "smart", "-W", "stop")

    def wait_stopped(self, timeout: float = 60.0) -> None:
        """Wait until a shutdown under way has finished (`pg_ctl status` says no server)."""
        def stopped() -> str | None:
            status = subprocess.run(self._cmd(str(self.bin / "pg_ctl"), "-D", str(self.data),
                                              "status"), check=False, capture_output=True,
                                    cwd=self.base, stdin=subprocess.DEVNULL, timeout=30)
            return None if status.returncode == 3 else "pg_ctl status: still running"

        try:
            wait_until(stopped, timeout=timeout)
        except NotReady:
            raise RuntimeError(f"PostgreSQL did not stop in {timeout}s:\n"
                               f"{tail(self.log_path)}") from None

    def up(self) -> None:
        """Start the server (pg_ctl waits until it accepts connections)."""
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            # A test cluster needs no crash safety; this makes CREATE DATABASE and commits fast.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        if self._started:
            self._started = False
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<PostgresCluster port={self.port} data={self.data}>"
