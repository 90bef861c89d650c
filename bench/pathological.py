"""What the worst texts of issue 21 cost, end to end, on a real server (SQLite and PostgreSQL).

    python bench/pathological.py [--databases sqlite,postgres] [--timeout 180]

For each database: a fresh database and `collab serve` (as production runs it), then one
request at a time, each timed from the client (a round trip on loopback; on an idle machine
about the server's own time):
- a card (board WebSocket `card.create`) and a forum post (`post.create`) whose 20,000-
  character text is `![` repeated: until the ack (item 4);
- approving a library entry whose 50,000-character body is `[`, then one of `<` (the search
  copy is stripped of markup inside the write transaction: item 3);
- reading a case study whose Markdown fields are all `![` (50,000 + 3 x 10,000): GET (item 4);
- the diff between two revisions: one line of a repeated word against another (8,000 and
  50,000 characters), and 12,500 lines of one repeated line with one changed (item 2).
Beside each time, the CPU the server process spent meanwhile (psutil; what the request cost
it, however loaded the machine is). A request not answered within --timeout seconds is
reported as `> N s` (the server may still be busy with it: the next case gets a fresh server).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # bench/run.py: servers, databases
from websockets.sync.client import connect

PASSWORD = "bench-password-0123456789"


class Site:
    """One fresh collab on one database, with an admin, an author and an expert."""

    def __init__(self, workdir: Path, database: str, url: str, n: int) -> None:
        self.env = run.collab_env(url, "memory://", "production")
        logdir = workdir / f"logs-{database}-{n}"
        logdir.mkdir()
        run.collab_migrate(self.env, logdir)
        self.server = run.CollabServer(f"collab-{database}-{n}", self.env, logdir, None)
        self.base = self.server.base
        for name, role in (("admin", "admin"), ("expert", "expert"), ("author", None)):
            subprocess.run([run.PYTHON, "-m", "collab.cli", "createuser", "--username", name,
                            "--password", PASSWORD, *(("--role", role) if role else ())],
                           env=self.env, cwd=run.ROOT, capture_output=True, timeout=120,
                           check=True)
        self.tokens = {name: run.http_json("POST", self.base + "/api/tokens",
                                           {"username": name, "password": PASSWORD})["token"]
                       for name in ("admin", "expert", "author")}

    def call(self, method: str, path: str, user: str, body: Any = None,
             timeout: float = 600) -> Any:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.tokens[user]}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.server.stop()


# The server CPU of the last timed request (run.Server.cpu_s before and after).
LAST_CPU: dict[str, float] = {"s": 0.0}


def timed(site: Site, fn: Callable[[], Any]) -> float:
    cpu, started = site.server.cpu_s(), time.perf_counter()
    fn()
    spent = time.perf_counter() - started
    LAST_CPU["s"] = site.server.cpu_s() - cpu
    return spent


def entry(site: Site, kind: str = "article", **fields: Any) -> int:
    body = {"kind": kind, "title": "A costly text", "summary": "Hostile text.",
            "body": "Body.", "topics": ["climate"], **fields}
    if kind == "case_study":
        body = {"jurisdiction": "Testshire", "level": "municipal", "problem": "P",
                "actions": "A", **body}
    return int(site.call("POST", "/api/library", "author", body)["id"])


def publish(site: Site, entry_id: int, timeout: float) -> float:
    """Submit, claim and approve; the approval's time."""
    site.call("POST", f"/api/library/{entry_id}/submit", "author", {})
    site.call("POST", f"/api/library/{entry_id}/claim", "expert", {})
    return timed(site, lambda: site.call("POST", f"/api/library/{entry_id}/review", "expert",
                                   {"decision": "approve"}, timeout))


def ws_ack(site: Site, channel: str, kind: str, data: dict[str, Any], timeout: float) -> float:
    with connect(f"ws://127.0.0.1:{site.server.port}/ws?token={site.tokens['admin']}",
                 max_size=2**24, open_timeout=30) as ws:
        ws.send(json.dumps({"op": "join", "channel": channel, "ref": "j"}))
        while json.loads(ws.recv(timeout=30)).get("op") != "joined":
            pass
        cpu, started = site.server.cpu_s(), time.perf_counter()
        ws.send(json.dumps({"op": "send", "channel": channel, "type": kind, "data": data,
                            "ref": "s"}))
        while True:
            frame = json.loads(ws.recv(timeout=timeout))
            if frame.get("ref") == "s":
                assert frame.get("op") == "ack", frame
                spent = time.perf_counter() - started
                LAST_CPU["s"] = site.server.cpu_s() - cpu
                return spent


# -- the cases -----------------------------------------------------------------------------------
def card(site: Site, timeout: float) -> float:
    project = site.call("POST", "/api/projects", "admin", {"name": "Costly", "visibility":
                                                           "private"})
    board = site.call("GET", f"/api/boards/{project['board_id']}", "admin")
    return ws_ack(site, f"board:{project['board_id']}", "card.create",
                  {"column_id": board["columns"][0]["id"], "title": "Costly",
                   "description": "![" * 10_000}, timeout)


def post(site: Site, timeout: float) -> float:
    room = site.call("POST", "/api/rooms", "admin", {"name": "Costly", "visibility": "public"})
    thread = site.call("POST", f"/api/rooms/{room['id']}/threads", "admin",
                       {"title": "Costly", "body": "First."})
    return ws_ack(site, f"thread:{thread['id']}", "post.create", {"body": "![" * 10_000},
                  timeout)


def approve(text: str) -> Callable[[Site, float], float]:
    def case(site: Site, timeout: float) -> float:
        return publish(site, entry(site, body=text), timeout)
    return case


def read_case_study(site: Site, timeout: float) -> float:
    entry_id = entry(site, "case_study", body="![" * 25_000, problem="![" * 5_000,
                     actions="![" * 5_000, lessons="![" * 5_000)
    return timed(site, lambda: site.call("GET", f"/api/library/{entry_id}", "author", None,
                                         timeout))


def diff(old: str, new: str) -> Callable[[Site, float], float]:
    def case(site: Site, timeout: float) -> float:
        entry_id = entry(site, body=old)
        publish(site, entry_id, timeout)
        site.call("PUT", f"/api/library/{entry_id}", "author", {"body": new})
        return timed(site, lambda: site.call(
            "GET", f"/api/library/{entry_id}/diff?from=1&to=2", "author", None, timeout))
    return case


CASES: list[tuple[str, Callable[[Site, float], float]]] = [
    ("card.create, 20,000 chars of ![ (ack)", card),
    ("post.create, 20,000 chars of ![ (ack)", post),
    ("approve, body of 50,000 [", approve("[" * 50_000)),
    ("approve, body of 50,000 <", approve("<" * 50_000)),
    ("GET case study, all fields ![ (80,000)", read_case_study),
    ("diff, 12,500 repeated lines, one changed",
     diff("a b\n" * 12_500, "a b\n" * 6_250 + "a c\n" + "a b\n" * 6_249)),
    ("diff, one line of a repeated word, 8,000", diff("a " * 4_000, "b a " * 2_000)),
    ("diff, one line of a repeated word, 50,000", diff("a " * 25_000, "b a " * 12_500)),
]


def run_database(workdir: Path, database: str, timeout: float) -> dict[str, str]:
    results: dict[str, str] = {}
    pg = run.Postgres(workdir / f"pg-{database}", None) if database == "postgres" else None
    try:
        site: Site | None = None
        for n, (name, case) in enumerate(CASES):
            if site is None:
                url = pg.url.rsplit("/", 1)[0] + f"/bench{n}" if pg else \
                    f"sqlite:///{workdir}/{database}-{n}.db"
                if pg:
                    subprocess.run(pg.as_user + [str(run.PG_BIN / "createdb"), "-h", "127.0.0.1",
                                   "-p", str(pg.port), "-U", "postgres", f"bench{n}"],
                                   check=True, capture_output=True, cwd="/")
                site = Site(workdir, database, url, n)
            try:
                seconds = case(site, timeout)
                results[name] = f"{seconds * 1000:,.0f} ms ({LAST_CPU['s'] * 1000:,.0f} cpu)"
            except (TimeoutError, urllib.error.URLError) as exc:
                if "timed out" not in str(exc):
                    raise
                results[name] = f"> {timeout:.0f} s"
                site.stop()  # still busy with it: the next case gets a fresh server
                site = None
            print(f"{database:9} {name:45} {results[name]:>22}", flush=True)
        if site is not None:
            site.stop()
    finally:
        if pg:
            pg.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    databases = args.databases.split(",")
    with tempfile.TemporaryDirectory(prefix="collab-pathological-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # PostgreSQL runs as its own user below it
        (workdir / "pg-postgres").mkdir()
        results = {db: run_database(workdir, db, args.timeout) for db in databases}
    print()
    print(f"{'case':45} " + " ".join(f"{db:>22}" for db in databases))
    for name, _ in CASES:
        print(f"{name:45} " + " ".join(f"{results[db][name]:>22}" for db in databases))


if __name__ == "__main__":
    main()
