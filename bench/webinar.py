"""The webinar scenario of bench/run.py: a crowd in one live room, chatting and upvoting.

    python bench/run.py webinar --attendees 1000 --chat-rate 50 --vote-rate 50 --seconds 30
    python bench/run.py webinar --attendees 10000 --processes 2 --chat-rate 1 --vote-rate 1

Every attendee is a signed-in member on its own socket (presence counts members, so anonymous
sockets would not exercise it). 1,000 members through the registration API would take minutes
of Argon2 hashing, so they are written into the database with collab's own models by
tests/support/members.py (one shared hash, a real token each) before collab starts serving.

Figures: the joins (`--connect-concurrency` at once; 0, the default, is the whole crowd at
once): their time, the server CPU they cost (in all, and per join) and the presence frames and
entries each socket got meanwhile (coalesced, and naming at most the first 100 members), then
events acknowledged per second, deliveries,
loss (acknowledged events × attendees − received), seq gaps, latency from each send to each
receipt (p50/p99/max), server CPU. The ceiling server gets the same load (its sockets need no
accounts; it has no presence).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sys
from typing import TYPE_CHECKING, Any

import websockets
from run import ROOT, OtherLoad, _problems, http_json, table, warn_other

if TYPE_CHECKING:
    from run import Context, Server

# Questions the crowd upvotes: vote k is attendee k mod N on question k div N, so each
# (question, member) pair is used once; three cover 3,000 votes of 1,000 attendees.
QUESTIONS = 3


def _members(database_url: str, count: int) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.members import make_members

    return make_members(database_url, count, f"att{random.randrange(10**6)}n")


def setup_webinar(server: Server, token: str) -> int:
    """A public webinar live now, created with the bench admin's token."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = http_json("POST", server.base + "/api/webinars", {
        "title": "Benchmark webinar", "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=6)).isoformat(), "visibility": "public",
        "description": "Chat and questions from bench/run.py."}, token)
    return int(made["id"])


def _start(ctx: Context, target: str, processes: int) -> list[Server]:
    """One server, or `processes` of them on one Redis (collab's also on one database)."""
    if processes == 1:
        return [ctx.start(target)]
    database = ctx.sqlite_url(f"{target}-webinar")
    servers: list[Server] = []
    try:
        for n in range(processes):
            servers.append(ctx.start(target, f"{target}-{chr(97 + n)}", database))
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


def scenario_webinar(ctx: Context, target: str) -> dict[str, Any]:
    a = ctx.args
    servers = _start(ctx, target, a.processes)
    first = servers[0]
    at_once = a.connect_concurrency or a.attendees

    def cpu() -> float:
        return sum(s.cpu_s() for s in servers)

    try:
        if target == "reference":
            channel = f"webinar:{random.randrange(10**9)}"
            urls = [servers[i % len(servers)].ws_url() for i in range(a.attendees)]
            questions = list(range(1, QUESTIONS + 1))
        else:
            channel, token = first.setup_channel("webinar")
            crowd = _members(first.env["DATABASE_URL"], a.attendees)
            # Attendees alternate between the processes, as a load balancer would spread them.
            urls = [servers[i % len(servers)].ws_url(m["token"]) for i, m in enumerate(crowd)]
            questions = asyncio.run(_ask(first.ws_url(token), channel, QUESTIONS))
        cfg = {"mode": "webinar", "channel": channel, "attendeeUrls": urls,
               "chatRate": a.chat_rate, "voteRate": a.vote_rate, "seconds": a.seconds,
               "questionIds": questions, "drainSeconds": a.drain,
               "connectConcurrency": at_once}
        gen = ctx.loadgen(cfg)
        try:
            rss0 = sum(s.rss() for s in servers)
            cpu_join0 = cpu()
            profilers = ctx.profile(servers, "webinar-join")
            ready = gen.phase("ready", 600)
            ctx.stop_profiles(profilers)
            # The settle second after the last join is in it: presence frames still going out.
            cpu_join = cpu() - cpu_join0
            rss_joined = sum(s.rss() for s in servers)
            cpu0 = cpu()
            gen_cpu0 = gen.cpu_s()
            other = OtherLoad([s.cpu_s for s in servers] + [gen.cpu_s, ctx.redis.cpu_s])
            profilers = ctx.profile(servers, "webinar")
            gen.go()
            done = gen.phase("done", a.seconds + a.drain + 120)
            ctx.stop_profiles(profilers)
            used = cpu() - cpu0
            window = max(done["window_s"], 1e-9)
            joined = max(ready["attendees"], 1)
            done.update({
                "processes": len(servers), "joins_at_once": min(at_once, a.attendees),
                "join_s": ready["join_s"], "joined": ready["attendees"],
                "join_failed": ready["failed"], "presence_frames": ready["presence_frames"],
                "presence_entries_mean": ready["presence_entries_mean"],
                "server_cpu_join_s": cpu_join, "ms_cpu_per_join": cpu_join / joined * 1e3,
                "rss_before_mib": rss0 / 2**20, "rss_joined_mib": rss_joined / 2**20,
                "server_cpu_s": used, "server_cpu_util": used / window,
                "us_per_delivery": used / done["received"] * 1e6 if done["received"] else None,
                "loadgen_cpu_util": (gen.cpu_s() - gen_cpu0) / window,
                "other_cpu_util": other.cores(),
            })
        finally:
            gen.close()
        return done
    except Exception:
        for server in servers:
            print(f"--- {server.name} log tail ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()


async def _ask(url: str, channel: str, n: int) -> list[int]:
    """The questions the crowd upvotes, asked by the bench admin."""
    ids = []
    async with websockets.connect(url, compression=None) as ws:
        for i in range(n):
            await ws.send(json.dumps({"op": "send", "ref": str(i), "channel": channel,
                                      "type": "question.ask",
                                      "data": {"body": f"Benchmark question {i}?"}}))
            while True:
                answer = json.loads(await ws.recv())
                if answer.get("ref") == str(i):
                    break
            if answer.get("op") != "ack":
                raise RuntimeError(f"question.ask refused: {answer}")
            ids.append(int(answer["data"]["id"]))
    return ids


def print_webinar(results: dict[str, dict[str, Any]], args: Any) -> None:
    def lost(r: dict[str, Any]) -> Any:
        return r["loss"] if r.get("drained", True) else f"{r['loss']:,} (drain cut)"

    table(f"webinar: {args.attendees:,} attendees on {args.processes} process(es), "
          f"{args.chat_rate:g} chat messages/s and {args.vote_rate:g} upvotes/s for "
          f"{args.seconds:g} s", [
              ("server processes", lambda r: r["processes"], 0),
              ("attendees joined (failed)", lambda r: f"{r['joined']:,} ({r['join_failed']})", 0),
              ("joins at once", lambda r: r["joins_at_once"], 0),
              ("join time s", lambda r: r["join_s"], 2),
              ("presence frames / socket max", lambda r: r["presence_frames"]["max"], 0),
              ("presence frames / socket p50", lambda r: r["presence_frames"]["p50"], 0),
              ("presence entries / socket mean", lambda r: r["presence_entries_mean"], 1),
              ("server CPU s for the joins", lambda r: r["server_cpu_join_s"], 2),
              ("server ms CPU / join", lambda r: r["ms_cpu_per_join"], 2),
              ("server RSS before / joined MiB",
               lambda r: f"{r['rss_before_mib']:.0f} / {r['rss_joined_mib']:.0f}", 0),
              ("events acked (events/s)", lambda r: r["events_per_s"], 1),
              ("refused sends", lambda r: ", ".join(f"{k}: {v}" for k, v in
                                                   r["refused"].items()) or "none", 0),
              ("deliveries", lambda r: r["received"], 0),
              ("deliveries/s", lambda r: r["deliveries_per_s"], 0),
              ("loss (expected - received)", lost, 0),
              ("seq gaps / duplicates", lambda r: f"{r['gaps']} / {r['dups']}", 0),
              ("latency p50 ms", lambda r: r["latency"]["p50_ms"], 2),
              ("latency p99 ms", lambda r: r["latency"]["p99_ms"], 2),
              ("latency max ms", lambda r: r["latency"]["max_ms"], 2),
              ("server CPU use (cores)", lambda r: r["server_cpu_util"], 2),
              ("server µs CPU / delivery", lambda r: r["us_per_delivery"], 2),
              ("loadgen CPU use (cores)", lambda r: r["loadgen_cpu_util"], 2),
              ("other processes' CPU (cores)", lambda r: r["other_cpu_util"], 2),
              ("errors / unexpected closes", _problems, 0),
          ], results)
    warn_other(results)
