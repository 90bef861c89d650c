"""A soak: 2,000 sockets on two collab processes for ten minutes, all four products at once.

    python bench/soak.py                 # 10 minutes, 2,000 sockets
    python bench/soak.py --minutes 3 --sockets 500

Like bench/run.py it starts its own throwaway Redis and PostgreSQL (fsync on) and two
`collab serve` processes on them (pinned to the server core), then holds `--sockets` sockets,
spread over both processes: forum readers on a public thread, readers of a public project's
board, and signed-in attendees of a live public webinar. Meanwhile, open loop (a send is never
held back waiting for an earlier answer), from writers on both processes:
- forum posts (`post.create`, `--post-rate`/s),
- board card moves (`card.move` of 60 cards across three columns, `--move-rate`/s),
- webinar chat (`chat.send`, `--chat-rate`/s) and questions (`question.ask`, `--ask-rate`/s)
  from the attendees,
- library searches over HTTP (`GET /api/library?q=`, `--search-rate`/s) on 2,000 generated
  entries.

It reports, per kind of work: done per second, latency from send to ack (searches: to the
answer) p50/p99/max, refusals and errors; every reader's deliveries, checked for seq gaps and
duplicates; unexpected closes; and each server's RSS once all sockets had joined, every
minute, and at the end (it must not grow without bound). Needs what bench/run.py needs
(bench/README.md); the clients run in this process, on the load generator's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import orjson
import run
from run import BENCH, CollabServer, Postgres, Redis, collab_env, collab_migrate, http_json
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(BENCH.parent / "tests"))
ACK_TIMEOUT_S = 30.0
CARDS, COLUMNS = 60, 3


class Stats:
    """Counts and latencies of one kind of work."""

    def __init__(self) -> None:
        self.done = 0
        self.latencies: list[float] = []
        self.refused: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else None

        return {"done": self.done, "per_s": self.done / seconds, "p50_ms": pct(50),
                "p99_ms": pct(99), "max_ms": lat[-1] if lat else None,
                "refused": dict(self.refused), "errors": dict(self.errors)}


class Sock:
    """One client socket: reads every frame, answers pending sends by ref, checks seq order."""

    closes: ClassVar[Counter[str]] = Counter()

    def __init__(self, ws: ClientConnection, reader: bool) -> None:
        self.ws = ws
        self.reader = reader
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.last_seq: dict[str, int] = {}
        self.events = 0
        self.presence = 0
        self.gaps = 0
        self.dups = 0
        self.refs = 0
        self.task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str, channel: str | None, reader: bool = True) -> Sock:
        ws = await connect(url, compression=None, max_size=2**24, proxy=None,
                           ping_interval=None, open_timeout=60)
        sock = cls(ws, reader)
        if channel is not None:
            joined = await sock.request({"op": "join", "channel": channel})
            if joined.get("op") != "joined":
                raise RuntimeError(f"join {channel} refused: {joined}")
            sock.last_seq[channel] = joined["seq"]
        return sock

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                frame = orjson.loads(text)
                op = frame.get("op")
                if op == "event":
                    seq = frame.get("seq")
                    if seq is None:
                        continue
                    self.events += 1
                    last = self.last_seq.get(frame["channel"])
                    if last is not None:
                        if seq <= last:
                            self.dups += 1
                            continue
                        self.gaps += seq - last - 1
                    self.last_seq[frame["channel"]] = seq
                elif op == "presence":
                    self.presence += 1
                else:
                    future = self.pending.pop(frame.get("ref") or "", None)
                    if future is not None and not future.done():
                        future.set_result(frame)
        except Exception as exc:
            Sock.closes[type(exc).__name__] += 1
        else:
            if not closing:
                Sock.closes[f"closed {self.ws.close_code}"] += 1

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.refs += 1
        ref = frame["ref"] = f"r{self.refs}"
        future = self.pending[ref] = asyncio.get_running_loop().create_future()
        await self.ws.send(orjson.dumps(frame).decode())
        try:
            return await asyncio.wait_for(future, ACK_TIMEOUT_S)
        finally:
            self.pending.pop(ref, None)


closing = False


async def timed(stats: Stats, sock: Sock, frame: dict[str, Any],
                on_ack: Any = None) -> None:
    t0 = time.perf_counter()
    try:
        answer = await sock.request(frame)
    except TimeoutError:
        stats.errors["no answer in 30 s"] += 1
        return
    except Exception as exc:
        stats.errors[type(exc).__name__] += 1
        return
    if answer.get("op") == "ack":
        stats.done += 1
        stats.latencies.append((time.perf_counter() - t0) * 1000)
        if on_ack is not None:
            on_ack(answer)
    else:
        stats.refused[answer.get("code", "?")] += 1


async def at_rate(rate: float, end: float, act: Any) -> None:
    """Call `act(n)` `rate` times a second until `end`, never waiting for what it started."""
    if rate <= 0:
        return
    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    n = 0
    while True:
        due = start + n / rate
        if due >= end:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        task = asyncio.get_running_loop().create_task(act(n))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    if tasks:
        await asyncio.wait(tasks, timeout=ACK_TIMEOUT_S + 5)


def search(base: str, query: str, stats: Stats) -> None:
    t0 = time.perf_counter()
    url = f"{base}/api/library?" + urllib.parse.urlencode({"q": query})
    try:
        with urllib.request.urlopen(url, timeout=ACK_TIMEOUT_S) as resp:
            resp.read()
            ok = resp.status == 200
    except Exception as exc:
        stats.errors[type(exc).__name__] += 1
        return
    if ok:
        stats.done += 1
        stats.latencies.append((time.perf_counter() - t0) * 1000)
    else:
        stats.errors["http"] += 1


def rss_mib(servers: list[CollabServer]) -> list[float]:
    return [s.rss() / 2**20 for s in servers]


async def soak(a: argparse.Namespace, servers: list[CollabServer], setup: dict[str, Any]
               ) -> dict[str, Any]:
    global closing
    token = setup["token"]
    people = setup["attendees"]
    thread, board, webinar = setup["thread"], setup["board"], setup["webinar"]
    n_webinar = len(people)
    n_thread = (a.sockets - n_webinar) // 2
    n_board = a.sockets - n_webinar - n_thread

    def on(i: int) -> CollabServer:
        return servers[i % len(servers)]

    # Readers, spread over both processes, opened 100 at a time.
    plan = ([(on(i).ws_url(), thread) for i in range(n_thread)]
            + [(on(i).ws_url(), board) for i in range(n_board)]
            + [(on(i).ws_url(p["token"]), webinar) for i, p in enumerate(people)])
    limit = asyncio.Semaphore(100)

    async def opened(url: str, channel: str) -> Sock:
        async with limit:
            return await Sock.open(url, channel)

    t0 = time.monotonic()
    readers = await asyncio.gather(*(opened(u, c) for u, c in plan))
    join_s = time.monotonic() - t0
    attendees = readers[n_thread + n_board:]
    writers = [await Sock.open(s.ws_url(token), None, reader=False) for s in servers]
    await asyncio.sleep(5)  # settle: presence frames, writers' buffers
    rss_start = rss_mib(servers)
    cpu_start = [s.cpu_s() for s in servers]
    print(f"   {len(readers):,} sockets joined in {join_s:.1f} s; RSS MiB "
          f"{' / '.join(f'{r:.0f}' for r in rss_start)}", file=sys.stderr, flush=True)

    stats = {k: Stats() for k in ("forum post", "board move", "webinar chat",
                                  "webinar question", "library search")}
    versions = dict(setup["cards"])  # card id -> version, from acks
    columns = setup["columns"]
    queries = setup["queries"]
    end = time.monotonic() + a.minutes * 60
    rng = random.Random(3)
    pool = ThreadPoolExecutor(max_workers=8)
    loop = asyncio.get_running_loop()

    async def post(n: int) -> None:
        await timed(stats["forum post"], writers[n % len(writers)], {
            "op": "send", "channel": thread, "type": "post.create",
            "data": {"body": f"Soak post {n}: what the forum says today."}})

    async def move(n: int) -> None:
        # Each process's writer moves its own half of the cards, so moves never race.
        free = [c for c in versions if c % len(writers) == n % len(writers)]
        if not free:  # every card of this writer has a move in flight: the server is behind
            stats["board move"].refused["skipped: all cards in flight"] += 1
            return
        card = rng.choice(free)
        version = versions.pop(card)  # one move of a card in flight at a time

        def acked(answer: dict[str, Any]) -> None:
            versions[card] = answer["data"]["version"]

        try:
            await timed(stats["board move"], writers[n % len(writers)], {
                "op": "send", "channel": board, "type": "card.move",
                "data": {"card_id": card, "version": version, "column_id": rng.choice(columns),
                         "index": rng.randint(0, 5)}}, acked)
        finally:
            versions.setdefault(card, version)  # refused or lost: try it again later

    async def chat(n: int) -> None:
        await timed(stats["webinar chat"], attendees[(n * 7) % len(attendees)], {
            "op": "send", "channel": webinar, "type": "chat.send",
            "data": {"body": f"Soak chat {n}"}})

    async def ask(n: int) -> None:
        await timed(stats["webinar question"], attendees[(n * 13 + 5) % len(attendees)], {
            "op": "send", "channel": webinar, "type": "question.ask",
            "data": {"body": f"Soak question {n}, about the figures?"}})

    async def find(n: int) -> None:
        await loop.run_in_executor(pool, search, on(n).base, queries[n % len(queries)],
                                   stats["library search"])

    async def every_minute() -> list[dict[str, Any]]:
        samples = []
        minute = 0
        while time.monotonic() < end - 30:
            await asyncio.sleep(min(60.0, max(0.0, end - time.monotonic())))
            minute += 1
            done = sum(s.done for s in stats.values())
            sample = {"minute": minute, "rss_mib": rss_mib(servers), "done": done,
                      "deliveries": sum(r.events for r in readers)}
            samples.append(sample)
            print(f"   minute {minute}: {done:,} done, {sample['deliveries']:,} delivered, RSS "
                  f"MiB {' / '.join(f'{r:.0f}' for r in sample['rss_mib'])}",
                  file=sys.stderr, flush=True)
        return samples

    started = time.monotonic()
    results = await asyncio.gather(
        at_rate(a.post_rate, end, post), at_rate(a.move_rate, end, move),
        at_rate(a.chat_rate, end, chat), at_rate(a.ask_rate, end, ask),
        at_rate(a.search_rate, end, find), every_minute())
    seconds = time.monotonic() - started
    await asyncio.sleep(3)  # the last deliveries
    rss_end = rss_mib(servers)
    cpu = [s.cpu_s() - c for s, c in zip(servers, cpu_start, strict=True)]
    alive = sum(1 for r in readers if r.ws.close_code is None)
    closing = True
    for sock in [*readers, *writers]:
        with contextlib.suppress(Exception):
            await sock.ws.close()
    pool.shutdown()
    return {
        "sockets": len(readers), "alive_at_end": alive, "join_s": join_s, "seconds": seconds,
        "work": {k: v.summary(seconds) for k, v in stats.items()},
        "deliveries": sum(r.events for r in readers),
        "deliveries_per_s": sum(r.events for r in readers) / seconds,
        "presence_frames": sum(r.presence for r in readers),
        "gaps": sum(r.gaps for r in readers), "dups": sum(r.dups for r in readers),
        "closes": dict(Sock.closes), "rss_start_mib": rss_start, "rss_end_mib": rss_end,
        "rss_minutes": results[-1], "server_cpu_s": cpu,
    }


def prepare(servers: list[CollabServer], env: dict[str, str], workdir: Path,
            attendees: int) -> dict[str, Any]:
    """The thread, board, webinar, library and members the soak works on."""
    import boards
    import library
    from support.members import make_members
    from webinar import setup_webinar

    first = servers[0]
    thread, token = first.setup_channel("thread")
    assert token is not None
    webinar = f"webinar:{setup_webinar(first, token)}"
    project = http_json("POST", first.base + "/api/projects",
                        {"name": f"Soak {random.randrange(10**6)}", "visibility": "public"},
                        token)
    board = f"board:{project['board_id']}"
    columns = [c["id"] for c in http_json("GET", f"{first.base}/api/boards/"
                                          f"{project['board_id']}", token=token)["columns"]]
    columns = columns[:COLUMNS]
    cards: list[tuple[int, int]] = []
    for column in columns:
        ids = asyncio.run(boards._fill(first.ws_url(), token, board, column, CARDS // COLUMNS))
        cards += [(card, 1) for card in ids]
    versions = {c["id"]: c["version"] for col in http_json(
        "GET", f"{first.base}/api/boards/{project['board_id']}", token=token)["columns"]
        for c in col["cards"]}
    path = workdir / "library.jsonl"
    library.write_library(path, 2000, ["bench"])
    subprocess.run([run.PYTHON, "-m", "collab.cli", "import-library", str(path)], env=env,
                   cwd=run.ROOT, capture_output=True, timeout=1800, check=True)
    people = make_members(env["DATABASE_URL"], attendees, f"soak{random.randrange(10**6)}n")
    return {"token": token, "thread": thread, "board": board, "webinar": webinar,
            "columns": columns, "cards": [(c, versions.get(c, v)) for c, v in cards],
            "queries": library.queries(500), "attendees": people}


def fmt(v: Any) -> str:
    return "-" if v is None else f"{v:,.1f}" if isinstance(v, float) else f"{v:,}"


def report(r: dict[str, Any], a: argparse.Namespace) -> None:
    print(f"\n== soak: {r['sockets']:,} sockets on 2 collab processes (PostgreSQL, Redis), "
          f"{r['seconds'] / 60:.1f} minutes")
    print(f"{'work':18}{'done':>10}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  "
          f"refused / errors")
    for name, w in r["work"].items():
        bad = ", ".join(f"{k}: {v}" for k, v in {**w["refused"], **w["errors"]}.items())
        print(f"{name:18}{fmt(w['done']):>10}{fmt(w['per_s']):>9}{fmt(w['p50_ms']):>9}"
              f"{fmt(w['p99_ms']):>9}{fmt(w['max_ms']):>9}  {bad or 'none'}")
    print(f"deliveries to readers: {r['deliveries']:,} ({r['deliveries_per_s']:,.0f}/s), "
          f"seq gaps {r['gaps']}, duplicates {r['dups']}; presence frames "
          f"{r['presence_frames']:,}")
    print(f"sockets joined in {r['join_s']:.1f} s; open at the end {r['alive_at_end']:,} of "
          f"{r['sockets']:,}; unexpected closes: "
          f"{', '.join(f'{k}: {v}' for k, v in r['closes'].items()) or 'none'}")
    rss = " | ".join(f"{m['minute']}: " + " / ".join(f"{x:.0f}" for x in m["rss_mib"])
                     for m in r["rss_minutes"])
    print("server RSS MiB (a / b): start " + " / ".join(f"{x:.0f}" for x in r["rss_start_mib"])
          + ", end " + " / ".join(f"{x:.0f}" for x in r["rss_end_mib"]))
    print(f"  by minute: {rss}")
    print("server CPU s (a / b): " + " / ".join(f"{c:.0f}" for c in r["server_cpu_s"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--sockets", type=int, default=2000)
    p.add_argument("--attendees", type=int, default=0,
                   help="signed-in webinar attendees among the sockets (0: half of them)")
    p.add_argument("--post-rate", type=float, default=1)
    p.add_argument("--move-rate", type=float, default=2)
    p.add_argument("--chat-rate", type=float, default=1)
    p.add_argument("--ask-rate", type=float, default=0.2)
    p.add_argument("--search-rate", type=float, default=2)
    p.add_argument("--no-pin", action="store_true")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    a = p.parse_args()
    attendees = a.attendees or a.sockets // 2
    run.raise_fd_limit()
    placement = run.plan_cores(a.no_pin)
    workdir = Path(tempfile.mkdtemp(prefix="collab-soak-"))
    logdir = BENCH / "results" / datetime.datetime.now().strftime("soak-%Y%m%d-%H%M%S")
    logdir.mkdir(parents=True, exist_ok=True)
    if placement.loadgen:
        import os

        os.sched_setaffinity(0, placement.loadgen)
    print(f"collab soak, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: "
          f"python bench/soak.py {' '.join(sys.argv[1:])}; logs in {logdir}")
    redis = Redis(workdir, placement.loadgen)
    postgres = None
    servers: list[CollabServer] = []
    try:
        postgres = Postgres(workdir, placement.loadgen)
        env = collab_env(postgres.url, redis.url, "production")
        collab_migrate(env, logdir)
        servers = [CollabServer(f"collab-{n}", env, logdir, placement.server) for n in "ab"]
        print("   preparing: thread, board, webinar, library, members", file=sys.stderr,
              flush=True)
        setup = prepare(servers, env, workdir, attendees)
        result = asyncio.run(soak(a, servers, setup))
        report(result, a)
        (logdir / "soak.json").write_text(json.dumps(result, indent=2, default=str))
        if a.json:
            a.json.write_text(json.dumps(result, indent=2, default=str))
    except Exception:
        for server in servers:
            print(f"--- {server.name} log tail ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()
        if postgres is not None:
            postgres.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
