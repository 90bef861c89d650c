"""The `boards` scenario of bench/run.py: a board of 1,000 cards opened and moved on.

    python bench/run.py boards [--seconds 10] [--writers 10] [--databases sqlite,postgres]

For each database: one collab server, one project whose board holds 1,000 cards (990 in one
column, 10 in another). It measures
- the board page and `GET /api/boards/{id}` (median and p95 of 20 requests, as the owner, without
  compression): the server's own time (the `Server-Timing` header of the handler) and the time
  the client waited;
- `--writers` clients (default 10), each a socket joined to the board (so each also receives
  every move), moving cards one at a time (the next move after the ack) to random places: first
  in the 10-card column (each client moves its own card), then in the 990-card column (each its
  own 10). Acknowledged moves per second, ack latency, refusals, server CPU.

The clients are Python (websockets), in `--board-procs` processes on the load generator's
cores, not Node: they need send keys, versions from acks and nothing else of loadgen.js.
Targets (issue 8): page < 150 ms and JSON < 50 ms of server time; >= 500 acked moves/s;
moves/s on the 990-card column within 20% of the 10-card one.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import re
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

BIG = 990
SMALL = 10
REQUESTS = 20
PAGE_TARGET_MS, JSON_TARGET_MS, MOVES_TARGET, RATIO_TARGET = 150, 50, 500, 0.8


# -- HTTP ---------------------------------------------------------------------------------------
def _json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None
                                 else None, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"{}")


def _signed_in(base: str, username: str, password: str) -> dict[str, str]:
    """The owner's session cookie, as a header (pages are measured as the owner sees them: with
    every writer's control). By hand: in production mode the cookie is `Secure`, which a cookie
    jar would not send back over the loopback's plain HTTP."""
    cookies: dict[str, str] = {}

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None  # the 303 after signing in is the answer we want

    opener = urllib.request.build_opener(Keep)

    def call(req: urllib.request.Request) -> str:
        if cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
        try:
            resp = opener.open(req, timeout=30)
        except urllib.error.HTTPError as exc:  # the 303 arrives as an "error" without redirects
            resp = exc
        for header in resp.headers.get_all("set-cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.read().decode()

    page = call(urllib.request.Request(base + "/login"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on /login"
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username,
                                   "password": password, "next": "/projects"}).encode()
    call(urllib.request.Request(base + "/login", data=form, headers={"Origin": base}))
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def _timed(opener: Any, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Median and p95 of REQUESTS gets: client wall time, the handler's Server-Timing, size."""
    wall, server, size = [], [], 0
    for n in range(REQUESTS + 2):
        req = urllib.request.Request(url, headers={"Accept-Encoding": "identity", **headers})
        t0 = time.perf_counter()
        with opener.open(req, timeout=60) as resp:
            body = resp.read()
            timing = resp.headers.get("server-timing", "")
        elapsed = (time.perf_counter() - t0) * 1000
        if n < 2:
            continue  # the first requests compile templates and warm caches
        wall.append(elapsed)
        match = re.search(r"dur=([0-9.]+)", timing)
        server.append(float(match.group(1)) if match else float("nan"))
        size = len(body)
    return {"server_p50_ms": statistics.median(server), "server_p95_ms": _p(server, 95),
            "wall_p50_ms": statistics.median(wall), "wall_p95_ms": _p(wall, 95),
            "kib": size / 1024}


def _p(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# -- sockets ------------------------------------------------------------------------------------
async def _fill(ws_url: str, token: str, channel: str, column: int, n: int) -> list[int]:
    """`n` cards appended to a column, pipelined; their ids in order."""
    from websockets.asyncio.client import connect

    ids: dict[str, int] = {}
    async with connect(f"{ws_url}?token={token}", max_size=2**24, proxy=None) as ws:
        for i in range(n):
            await ws.send(json.dumps({"op": "send", "ref": f"f{i}", "channel": channel,
                                      "type": "card.create",
                                      "data": {"column_id": column, "title": f"Card {i}",
                                               "labels": ["bench"],
                                               "description": "A card of the benchmark."}}))
        while len(ids) < n:
            frame = json.loads(await ws.recv())
            if frame.get("op") == "ack":
                ids[frame["ref"]] = frame["data"]["id"]
            elif frame.get("op") == "error":
                raise RuntimeError(f"filling the board failed: {frame}")
    return [ids[f"f{i}"] for i in range(n)]


async def _clients(ws_url: str, token: str, channel: str, column: int, others: int,
                   owned: list[list[tuple[int, int]]], start_at: float,
                   seconds: float) -> dict[str, Any]:
    """Clients of one process: each moves its own cards, one move in flight at a time."""
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    errors: dict[str, int] = {}
    counts = {"acked": 0, "events": 0}

    async def client(index: int, cards: list[tuple[int, int]]) -> None:
        rng = random.Random(index)
        versions = dict(cards)
        async with connect(f"{ws_url}?token={token}", max_size=2**24, proxy=None,
                           compression=None) as ws:
            await ws.send(json.dumps({"op": "join", "ref": "j", "channel": channel}))
            while json.loads(await ws.recv()).get("op") != "joined":
                pass
            await asyncio.sleep(max(0.0, start_at - time.time()))
            end = time.time() + seconds
            n = 0
            while time.time() < end:
                card = rng.choice(list(versions))
                ref = f"m{n}"
                n += 1
                t0 = time.perf_counter()
                await ws.send(json.dumps({"op": "send", "ref": ref, "channel": channel,
                                          "type": "card.move",
                                          "data": {"card_id": card, "version": versions[card],
                                                   "column_id": column,
                                                   "index": rng.randint(0, others)}}))
                while True:
                    text = await ws.recv()
                    if text.startswith('{"op":"event"'):
                        counts["events"] += 1  # everyone's moves: counted, not parsed
                        continue
                    frame = json.loads(text)
                    if frame.get("ref") != ref:
                        continue
                    if frame["op"] == "ack":
                        versions[card] = frame["data"]["version"]
                        counts["acked"] += 1
                        latencies.append((time.perf_counter() - t0) * 1000)
                    else:
                        errors[frame.get("code", "?")] = errors.get(frame.get("code", "?"), 0) + 1
                    break

    await asyncio.gather(*(client(i, cards) for i, cards in enumerate(owned)))
    return {"acked": counts["acked"], "events": counts["events"], "errors": errors,
            "latencies": latencies}


def _client_process(args: tuple[Any, ...], out: Any) -> None:
    out.put(asyncio.run(_clients(*args)))


def _moves(server: Any, token: str, channel: str, column: int, cards: list[tuple[int, int]],
           others: int, clients: int, procs: int, seconds: float) -> dict[str, Any]:
    """`clients` sockets in `procs` processes, each owning a share of `cards`."""
    per_client = [cards[i::clients] for i in range(clients)]
    groups = [per_client[p::procs] for p in range(procs)]
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0  # processes start and join first
    workers = [ctx.Process(target=_client_process,
                           args=((server.ws_url(), token, channel, column, others,
                                  group, start_at, seconds), out))
               for group in groups if group]
    for w in workers:
        w.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu0 = server.cpu_s()
    parts = [out.get(timeout=seconds + 120) for _ in workers]
    cpu = server.cpu_s() - cpu0
    for w in workers:
        w.join(30)
    latencies = sorted(x for p in parts for x in p["latencies"])
    errors: dict[str, int] = {}
    for p in parts:
        for code, n in p["errors"].items():
            errors[code] = errors.get(code, 0) + n
    acked = sum(p["acked"] for p in parts)
    return {"acked": acked, "moves_per_s": acked / seconds, "errors": errors,
            "ack_p50_ms": _p(latencies, 50) if latencies else None,
            "ack_p99_ms": _p(latencies, 99) if latencies else None,
            "events_received": sum(p["events"] for p in parts),
            "server_cpu_util": cpu / seconds}


# -- the scenario -------------------------------------------------------------------------------
def measure(server: Any, clients: int, procs: int, seconds: float) -> dict[str, Any]:
    _, token = server.setup_channel()  # the bench user (an admin) and its token
    base = server.base
    project = _json("POST", base + "/api/projects",
                    {"name": f"Bench board {random.randrange(10**6)}", "visibility": "private"},
                    token)
    board_id = project["board_id"]
    channel = f"board:{board_id}"
    columns = [c["id"] for c in _json("GET", f"{base}/api/boards/{board_id}",
                                      token=token)["columns"]]
    big = asyncio.run(_fill(server.ws_url(), token, channel, columns[0], BIG))
    small = asyncio.run(_fill(server.ws_url(), token, channel, columns[1], SMALL))
    session = _signed_in(base, "bench", "bench-password-0123456789")
    page = _timed(urllib.request.build_opener(), f"{base}/boards/{board_id}", session)
    assert page["kib"] > 100, "the board page did not show the board (signed out?)"
    api = _timed(urllib.request.build_opener(), f"{base}/api/boards/{board_id}",
                 {"Authorization": f"Bearer {token}"})
    small_moves = _moves(server, token, channel, columns[1], [(c, 1) for c in small],
                         SMALL - 1, clients, procs, seconds)
    big_cards = [(c, 1) for c in big[: clients * 10]]
    big_moves = _moves(server, token, channel, columns[0], big_cards, BIG - 1, clients, procs,
                       seconds)
    return {"cards": BIG + SMALL, "page": page, "json": api, "small": small_moves,
            "big": big_moves, "clients": clients,
            "ratio": (big_moves["moves_per_s"] / small_moves["moves_per_s"]
                      if small_moves["moves_per_s"] else None)}


def scenario(ctx: Any, postgres_class: Any) -> dict[str, Any]:
    """Run on each of `--databases`; print the table; return the figures."""
    a = ctx.args
    procs = max(1, min(a.writers, getattr(a, "board_procs", 2)))
    results: dict[str, Any] = {}
    for db in [d for d in a.databases.split(",") if d]:
        url = None
        if db == "postgres":
            if ctx.postgres is None:
                try:
                    ctx.postgres = postgres_class(ctx.workdir, ctx.placement.loadgen)
                except Exception as exc:  # no PostgreSQL here: report it, go on
                    results[f"{db}_error"] = f"PostgreSQL could not start: {exc}"
                    continue
            url = ctx.postgres.url
        print(f"   ... boards: {db}", flush=True)
        server = ctx.start("collab", f"collab-boards-{db}", url)
        try:
            results[db] = measure(server, a.writers, procs, a.seconds)
        except Exception as exc:
            results[f"{db}_error"] = str(exc)
            print(f"!! boards on {db} failed: {exc}\n--- log tail ---\n{server.log_tail()}")
        finally:
            server.stop()
    print_table(results, a.writers, a.seconds)
    return results


def _check(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_table(results: dict[str, Any], clients: int, seconds: float) -> None:
    dbs = [k for k in results if not k.endswith("_error")]
    print(f"\n== boards: a board of {BIG + SMALL:,} cards; {clients} clients moving cards "
          f"(one move in flight each, all joined), {seconds:g} s per column size")
    rows: list[tuple[str, Any]] = [
        ("board page, server ms p50 / p95", lambda r: f"{r['page']['server_p50_ms']:.1f} / "
                                                      f"{r['page']['server_p95_ms']:.1f}"),
        ("board page, client ms p50", lambda r: f"{r['page']['wall_p50_ms']:.1f}"),
        ("board page size KiB", lambda r: f"{r['page']['kib']:.0f}"),
        ("board JSON, server ms p50 / p95", lambda r: f"{r['json']['server_p50_ms']:.1f} / "
                                                      f"{r['json']['server_p95_ms']:.1f}"),
        ("board JSON, client ms p50", lambda r: f"{r['json']['wall_p50_ms']:.1f}"),
        ("board JSON size KiB", lambda r: f"{r['json']['kib']:.0f}"),
        (f"moves/s, {SMALL}-card column", lambda r: f"{r['small']['moves_per_s']:.0f}"),
        (f"moves/s, {BIG}-card column", lambda r: f"{r['big']['moves_per_s']:.0f}"),
        ("big / small column", lambda r: f"{r['ratio']:.2f}" if r["ratio"] else "-"),
        ("ack ms p50 / p99 (small)", lambda r: f"{r['small']['ack_p50_ms']:.1f} / "
                                               f"{r['small']['ack_p99_ms']:.1f}"),
        ("ack ms p50 / p99 (big)", lambda r: f"{r['big']['ack_p50_ms']:.1f} / "
                                             f"{r['big']['ack_p99_ms']:.1f}"),
        ("refused moves (small / big)", lambda r: f"{sum(r['small']['errors'].values())} / "
                                                  f"{sum(r['big']['errors'].values())}"),
        ("server CPU use, cores (small / big)",
         lambda r: f"{r['small']['server_cpu_util']:.2f} / {r['big']['server_cpu_util']:.2f}"),
        (f"targets: page<{PAGE_TARGET_MS} JSON<{JSON_TARGET_MS} ms",
         lambda r: _check(r["page"]["server_p50_ms"] < PAGE_TARGET_MS
                          and r["json"]["server_p50_ms"] < JSON_TARGET_MS)),
        (f"targets: >={MOVES_TARGET}/s, ratio>={RATIO_TARGET}",
         lambda r: _check(min(r["small"]["moves_per_s"], r["big"]["moves_per_s"])
                          >= MOVES_TARGET and (r["ratio"] or 0) >= RATIO_TARGET)),
    ]
    print(f"{'':38}" + "".join(f"{db:>18}" for db in dbs))
    for label, get in rows:
        cells = []
        for db in dbs:
            try:
                cells.append(str(get(results[db])))
            except (KeyError, TypeError):
                cells.append("-")
        print(f"{label:38}" + "".join(f"{c:>18}" for c in cells))
    for key, value in results.items():
        if key.endswith("_error"):
            print(f"  {key[:-6]}: {value}")
