"""The deployment of deploy/ on one machine: four network namespaces as four machines.

    edge  (nginx: deploy/nginx/collab.conf, TLS on 443; the test's clients live here too)
     ├── h1  (app host: collab@8001, collab@8002 from deploy/systemd/collab@.service)
     └── h2  (app host: the same two units)
    data  (PostgreSQL and Redis), one link per app host for each, so Redis alone can be cut off

Units are not run by systemd (CI has none): the test runs each unit's own ExecStart line with its
EnvironmentFile (deploy/collab.env with this deployment's values), in the order the units ask
for (collab-migrate before the workers), so what is tested is what the files say.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from support.servers import REPO_ROOT, server_env
from support.services import _postgres_bin_dir, tail

from .netns import Netns, link, sh

DEPLOY = REPO_ROOT / "deploy"
COLLAB_BIN = str(Path(sys.executable).with_name("collab"))
PORTS = (8001, 8002)
READY_TIMEOUT = 45.0

# Addresses from 198.18.0.0/15 (reserved for network tests), only ever inside the namespaces.
EDGE = {"h1": "198.18.1.1", "h2": "198.18.2.1"}
APP = {"h1": "198.18.1.2", "h2": "198.18.2.2"}
PG = {"h1": ("198.18.3.1", "198.18.3.2"), "h2": ("198.18.4.1", "198.18.4.2")}
REDIS = {"h1": ("198.18.5.1", "198.18.5.2"), "h2": ("198.18.6.1", "198.18.6.2")}


def unit_exec(unit: str) -> list[str]:
    """The ExecStart of deploy/systemd/`unit`, split as systemd splits it."""
    text = (DEPLOY / "systemd" / unit).read_text()
    [line] = [ln for ln in text.splitlines() if ln.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def expand(argv: list[str], env: dict[str, str], instance: str = "") -> list[str]:
    """systemd's `%i` and `${VAR}` expansion, and the installed `collab` for /opt/collab's."""
    out = []
    for arg in argv:
        arg = arg.replace("%i", instance)
        arg = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], arg)
        out.append(COLLAB_BIN if arg == "/opt/collab/.venv/bin/collab" else arg)
    return out


def env_file(values: dict[str, str]) -> dict[str, str]:
    """deploy/collab.env with `values` put in; every key given must be one the template has."""
    template: dict[str, str] = {}
    for line in (DEPLOY / "collab.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            template[key.strip()] = value.strip()
    unknown = set(values) - set(template)
    assert not unknown, f"deploy/collab.env has no {sorted(unknown)}"
    return {**template, **values}


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT,
               logs: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready in {timeout} s\n{logs}")
        time.sleep(0.05)  # polling interval, bounded by the deadline above


@dataclass
class Process:
    name: str
    ns: Netns
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.ns.exec(*self.argv), env=self.env, cwd=REPO_ROOT,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, nothing said to anyone."""
        if self.proc is not None:
            self.signal(signal.SIGKILL)
            self.proc.wait()


@dataclass
class Deployment:
    root: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    namespaces: dict[str, Netns] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    workers: dict[str, list[Process]] = field(default_factory=dict)
    redis_links: dict[str, str] = field(default_factory=dict)  # host -> device on the data side
    cert: Path = Path()
    pg_base: Path = Path()

    # -- machines ------------------------------------------------------------------------------
    def build_network(self) -> None:
        for name in ("edge", "h1", "h2", "data"):
            self.namespaces[name] = Netns(f"collab-{self.tag}-{name}")
        ns = self.namespaces
        for host in ("h1", "h2"):
            link(ns["edge"], EDGE[host], ns[host], APP[host])
            link(ns["data"], PG[host][0], ns[host], PG[host][1])
            data_dev, _ = link(ns["data"], REDIS[host][0], ns[host], REDIS[host][1])
            self.redis_links[host] = data_dev

    def ns(self, name: str) -> Netns:
        return self.namespaces[name]

    # -- data: PostgreSQL and Redis -----------------------------------------------------------
    def _pg(self, *args: str) -> str:
        return sh(*self.ns("data").exec("runuser", "-u", "postgres", "--", *args), timeout=90)

    def start_postgres(self) -> None:
        pg_bin = _postgres_bin_dir()
        self.pg_base = Path(tempfile.mkdtemp(prefix="collab-deploy-pg-"))
        os.chmod(self.pg_base, 0o755)
        shutil.chown(self.pg_base, user="postgres", group="postgres")
        data = self.pg_base / "data"
        self._pg(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8", "--locale=C")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host all all 198.18.0.0/15 trust\n")
        listen = ",".join(["127.0.0.1", PG["h1"][0], PG["h2"][0]])
        self._pg_options = (f"-p 5432 -k {self.pg_base} -c listen_addresses={listen} "
                            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._pg_ctl("start")
        self._pg(str(pg_bin / "psql"), "-h", "127.0.0.1", "-U", "postgres", "-X", "-q",
                 "-c", "CREATE DATABASE collab")

    def _pg_ctl(self, action: str) -> None:
        pg_bin = _postgres_bin_dir()
        self._pg(str(pg_bin / "pg_ctl"), "-D", str(self.pg_base / "data"), "-l",
                 str(self.pg_base / "postgres.log"), "-o", self._pg_options, "-m", "fast",
                 "-w", "-t", "60", action)

    def stop_postgres(self) -> None:
        self._pg_ctl("stop")

    def start_postgres_again(self) -> None:
        self._pg_ctl("start")

    def start_redis(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [binary, "--bind", REDIS["h1"][0], REDIS["h2"][0], "--port", "6379",
                "--protected-mode", "no", "--save", "", "--appendonly", "no",
                "--daemonize", "no"]
        self.redis = Process("redis", self.ns("data"), argv, dict(os.environ),
                             self.root / "redis.log")
        self.redis.start()
        self.processes.append(self.redis)
        wait_until(lambda: self.ns("data").call(lambda: _tcp_open(REDIS["h1"][0], 6379)),
                   "redis", logs=tail(self.redis.log))

    def stop_redis(self) -> None:
        self.redis.stop()

    def partition_from_redis(self, host: str, cut: bool) -> None:
        """Cut (or mend) the one link between `host` and Redis; PostgreSQL stays reachable."""
        self.ns("data").ip("link", "set", self.redis_links[host], "down" if cut else "up")

    # -- app hosts -----------------------------------------------------------------------------
    def host_env(self, host: str) -> dict[str, str]:
        values = env_file({
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": f"postgresql://postgres@{PG[host][0]}:5432/collab",
            "BROADCAST_URL": f"redis://{REDIS[host][0]}:6379/0",
            "COLLAB_HOST": APP[host],
            "FORWARDED_ALLOW_IPS": EDGE[host],
        })
        # Every test signs in and writes from one address (the edge's clients): the
        # per-address limits are the rate-limit tests' business, not this one's.
        values.update({"HTTP_WRITES_PER_MINUTE": "0",
                       "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "0"})
        return server_env(values)

    def run_unit_once(self, host: str, unit: str) -> str:
        """A oneshot unit's ExecStart on `host`, with the host's environment file."""
        env = self.host_env(host)
        return self.cli(host, *expand(unit_exec(unit), env)[1:])

    def cli(self, host: str, *args: str) -> str:
        """`collab ARGS` on `host` (e.g. `createuser --role admin`), as an operator runs it."""
        proc = subprocess.run(self.ns(host).exec(COLLAB_BIN, *args),  # noqa: PLW1510
                              env=self.host_env(host), cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"collab {args[0]} on {host} failed: {proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def start_host(self, host: str) -> None:
        env = self.host_env(host)
        argv = unit_exec("collab@.service")
        procs = [Process(f"{host}:{port}", self.ns(host), expand(argv, env, str(port)), env,
                         self.root / f"{host}-{port}.log") for port in PORTS]
        for p in procs:
            p.start()
        self.processes.extend(procs)
        self.workers[host] = procs
        for p, port in zip(procs, PORTS, strict=True):
            self.wait_healthy(host, port, p)

    def healthz(self, host: str, port: int) -> dict[str, str] | None:
        def get() -> dict[str, str] | None:
            try:
                r = httpx2.get(f"http://{APP[host]}:{port}/healthz", timeout=2, trust_env=False)
                return dict(r.json()) if r.status_code == 200 else None
            except (httpx2.TransportError, ValueError):
                return None
        return self.ns(host).call(get)

    def wait_healthy(self, host: str, port: int, proc: Process | None = None,
                     bus: str = "up", timeout: float = READY_TIMEOUT) -> None:
        def ok() -> bool:
            if proc is not None and not proc.running:
                raise RuntimeError(f"{proc.name} exited:\n{tail(proc.log)}")
            answer = self.healthz(host, port)
            return answer is not None and answer.get("bus") == bus
        wait_until(ok, f"{host}:{port} (bus {bus})", timeout,
                   logs=tail(proc.log) if proc else "")

    def reachable(self, host: str, address: str, port: int) -> bool:
        """Whether a TCP connection from `host` to `address:port` opens within half a second."""
        return self.ns(host).call(lambda: _tcp_open(address, port))

    def kill_host(self, host: str) -> None:
        for p in self.workers.pop(host):
            p.kill()
            self.processes.remove(p)

    def sockets_on(self, host: str) -> int:
        """Established connections from nginx to `host`'s processes (`ss` in its namespace)."""
        out = sh(*self.ns(host).exec("ss", "-Htn", "state", "established",
                                     f"( sport = :{PORTS[0]} or sport = :{PORTS[1]} )"))
        return len([ln for ln in out.splitlines() if ln.strip()])

    # -- edge: nginx ---------------------------------------------------------------------------
    def make_cert(self) -> None:
        self.cert = self.root / "tls" / "fullchain.pem"
        self.key = self.root / "tls" / "privkey.pem"
        self.cert.parent.mkdir(parents=True, exist_ok=True)
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=collab.example.org", "-keyout", str(self.key), "-out", str(self.cert),
           "-addext", "subjectAltName=DNS:collab.example.org,IP:127.0.0.1")

    def render_nginx(self) -> Path:
        """deploy/nginx/collab.conf with this deployment's upstreams, certificate and static
        root; each production value replaced must be there, so the file cannot drift."""
        text = (DEPLOY / "nginx" / "collab.conf").read_text()
        servers = re.findall(r"^\s*server (10\.0\.0\.\d+:\d+)( [^;]*);$", text, re.MULTILINE)
        assert len(servers) == 4, servers
        ours = [f"{APP[h]}:{p}" for h in ("h1", "h2") for p in PORTS]
        for (theirs, _), mine in zip(servers, ours, strict=True):
            text = text.replace(f"server {theirs} ", f"server {mine} ", 1)
        self.static_root = Path(tempfile.mkdtemp(prefix="collab-deploy-static-"))
        for old, new in (("/etc/ssl/collab/fullchain.pem", str(self.cert)),
                         ("/etc/ssl/collab/privkey.pem", str(self.key)),
                         ("root /srv/collab;", f"root {self.static_root};")):
            assert old in text, f"deploy/nginx/collab.conf no longer says {old}"
            text = text.replace(old, new)
        site = self.root / "nginx" / "collab.conf"
        site.parent.mkdir(parents=True, exist_ok=True)
        site.write_text(text)
        # What Debian's /etc/nginx/nginx.conf gives a site, with paths of the test's own.
        n = self.root / "nginx"
        main = n / "nginx.conf"
        main.write_text(f"""
user root;
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/error.log info;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format up '$request_method $uri $status upstream=$upstream_addr';
    access_log {n}/access.log up;
    client_body_temp_path {n}/body;
    proxy_temp_path {n}/proxy;
    fastcgi_temp_path {n}/fastcgi;
    uwsgi_temp_path {n}/uwsgi;
    scgi_temp_path {n}/scgi;
    include {site};
}}
""")
        return main

    def start_nginx(self) -> None:
        self.make_cert()
        main = self.render_nginx()
        # collab-static.service, as the nginx host runs it at each release.
        argv = unit_exec("collab-static.service")
        argv = [a.replace("/srv/collab/static", str(self.static_root / "static"))
                for a in expand(argv, {})]
        sh(*argv)
        os.chmod(self.static_root, 0o755)
        sh("nginx", "-t", "-c", str(main))
        self.nginx = Process("nginx", self.ns("edge"),
                             ["nginx", "-c", str(main), "-g", "daemon off;"], dict(os.environ),
                             self.root / "nginx" / "stderr.log")
        self.nginx.start()
        self.processes.append(self.nginx)
        wait_until(lambda: self.ns("edge").call(lambda: _tcp_open("127.0.0.1", 443)), "nginx",
                   logs=tail(self.nginx.log) + tail(self.root / "nginx" / "error.log"))

    # -- the whole -------------------------------------------------------------------------------
    def up(self) -> None:
        self.secret_key = secrets.token_urlsafe(48)
        self.build_network()
        self.start_postgres()
        self.start_redis()
        # collab@.service requires collab-migrate.service: it runs first, once.
        self.run_unit_once("h1", "collab-migrate.service")
        self.start_host("h1")
        self.start_host("h2")
        self.start_nginx()

    def down(self) -> None:
        for p in reversed(self.processes):
            with contextlib.suppress(Exception):
                p.stop()
        self.processes.clear()
        if self.pg_base != Path():
            with contextlib.suppress(Exception):
                self._pg(str(_postgres_bin_dir() / "pg_ctl"), "-D", str(self.pg_base / "data"),
                         "-m", "immediate", "-w", "stop")
            shutil.rmtree(self.pg_base, ignore_errors=True)
        if getattr(self, "static_root", None):
            shutil.rmtree(self.static_root, ignore_errors=True)
        for ns in self.namespaces.values():
            ns.delete()

    def logs(self) -> str:
        parts = [f"--- {p.name} ---\n{tail(p.log, 3000)}" for p in self.processes]
        parts.append(f"--- nginx error.log ---\n{tail(self.root / 'nginx' / 'error.log', 3000)}")
        return "\n".join(parts)
