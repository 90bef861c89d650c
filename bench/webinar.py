"""The webinar scenario of bench/run.py: a crowd in one live room, chatting and upvoting.

    python bench/run.py webinar --attendees 1000 --chat-rate 50 --vote-rate 50 --seconds 30

Every attendee is a signed-in member on its own socket (presence counts members, so anonymous
sockets would not exercise it). 1,000 members through the registration API would take minutes
of Argon2 hashing, so they are written into the database with collab's own models by
tests/support/members.py (one shared hash, a real token each) before collab starts serving.

Figures: join time for the whole crowd and the presence frames each socket got meanwhile
(coalesced: a few dozen, not one per arrival), events acknowledged per second, deliveries,
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


def scenario_webinar(ctx: Context, target: str) -> dict[str, Any]:
    a = ctx.args
    server = ctx.start(target)
    try:
        if target == "reference":
            channel = f"webinar:{random.randrange(10**9)}"
            urls = [server.ws_url()] * a.attendees
            questions = list(range(1, QUESTIONS + 1))
        else:
            channel, token = server.setup_channel("webinar")
            crowd = _members(ctx.sqlite_url(server.name), a.attendees)
            urls = [server.ws_url(m["token"]) for m in crowd]
            questions = asyncio.run(_ask(server.ws_url(token), channel, QUESTIONS))
        cfg = {"mode": "webinar", "channel": channel, "attendeeUrls": urls,
               "chatRate": a.chat_rate, "voteRate": a.vote_rate, "seconds": a.seconds,
               "questionIds": questions, "drainSeconds": a.drain,
               "connectConcurrency": a.connect_concurrency}
        gen = ctx.loadgen(cfg)
        try:
            cpu_join0 = server.cpu_s()
            profilers = ctx.profile([server], "webinar-join")
            ready = gen.phase("ready", 300)
            ctx.stop_profiles(profilers)
            cpu_join = server.cpu_s() - cpu_join0
            cpu0 = server.cpu_s()
            gen_cpu0 = gen.cpu_s()
            other = OtherLoad([server.cpu_s, gen.cpu_s, ctx.redis.cpu_s])
            profilers = ctx.profile([server], "webinar")
            gen.go()
            done = gen.phase("done", a.seconds + a.drain + 120)
            ctx.stop_profiles(profilers)
            cpu = server.cpu_s() - cpu0
            window = max(done["window_s"], 1e-9)
            done.update({
                "join_s": ready["join_s"], "joined": ready["attendees"],
                "join_failed": ready["failed"], "presence_frames": ready["presence_frames"],
                "presence_entries_mean": ready["presence_entries_mean"],
                "server_cpu_join_s": cpu_join, "server_cpu_s": cpu,
                "server_cpu_util": cpu / window,
                "us_per_delivery": cpu / done["received"] * 1e6 if done["received"] else None,
                "loadgen_cpu_util": (gen.cpu_s() - gen_cpu0) / window,
                "other_cpu_util": other.cores(),
            })
        finally:
            gen.close()
        return done
    except Exception:
        print(f"--- {server.name} log tail ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
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

    table(f"webinar: {args.attendees:,} attendees, {args.chat_rate:g} chat messages/s and "
          f"{args.vote_rate:g} upvotes/s for {args.seconds:g} s", [
              ("attendees joined (failed)", lambda r: f"{r['joined']:,} ({r['join_failed']})", 0),
              ("join time s", lambda r: r["join_s"], 2),
              ("presence frames / socket max", lambda r: r["presence_frames"]["max"], 0),
              ("presence frames / socket p50", lambda r: r["presence_frames"]["p50"], 0),
              ("server CPU s while joining", lambda r: r["server_cpu_join_s"], 2),
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
