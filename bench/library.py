"""The `library` scenario of bench/run.py: import a large library, then time searches.

    python bench/run.py library                         # 10,000 entries, 300 queries, both DBs
    python bench/run.py library --entries 1000 --queries 50 --databases sqlite   # a short check

For each database (SQLite, PostgreSQL): a fresh collab (`collab serve`, as production runs it)
and database; `collab import-library` loads N generated entries (articles, case studies and
papers written from a public-sector vocabulary, a few hundred words each) and its rate is
reported; then, one request at a time over one keep-alive connection, a few hundred
real-looking queries (whole words, phrases, half-typed words) without filters and the same
number with facets (kind, topic, level, year), and the search-as-you-type fragment
(`GET /library?q=` with `HX-Request`). Figures are the handler's own time from the
`Server-Timing` header (p50/p95/p99), and the client's round trip beside it. Targets: search
p95 under 20 ms, the fragment's p95 under 30 ms.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

SEARCH_P95_MS = 20.0
FRAGMENT_P95_MS = 30.0
WARMUP = 20

TOPICS = {
    "procurement": ["tender", "framework agreement", "supplier", "contract management",
                    "small businesses", "bid evaluation", "social value", "category strategy",
                    "spend analysis", "e-procurement", "purchase orders", "contract award",
                    "dynamic purchasing system", "market engagement", "lots"],
    "digital-services": ["online service", "user research", "accessibility", "service design",
                         "digital form", "assisted digital", "content design", "prototype",
                         "service standard", "user needs", "legacy system", "cloud hosting"],
    "data-analytics": ["dashboard", "data sharing", "predictive model", "open data",
                       "performance indicators", "data quality", "resource allocation",
                       "data warehouse", "geospatial analysis", "evaluation", "algorithm"],
    "emergency-response": ["emergency response times", "dispatch", "flood warning",
                           "incident command", "evacuation", "after-action review",
                           "resilience forum", "heatwave", "wildfire", "control room",
                           "mutual aid", "task force"],
    "citizen-engagement": ["consultation", "participatory budgeting", "citizens' assembly",
                           "community groups", "resident survey", "co-design", "trust",
                           "public meeting", "feedback", "plain language"],
    "workforce": ["apprenticeship", "recruitment", "digital skills", "mentoring",
                  "flexible working", "retention", "leadership development", "pay framework",
                  "graduate scheme", "training budget", "wellbeing"],
    "finance": ["budget", "zero-based budgeting", "grant programme", "value for money",
                "capital programme", "savings", "multi-year funding", "cost recovery",
                "outcome-based budgeting", "audit"],
    "climate": ["net zero", "electric fleet", "retrofit", "cooling centres", "tree planting",
                "flood defences", "climate risk register", "heat vulnerability",
                "renewable energy", "carbon budget"],
}
VERBS = ["cut", "reduced", "improved", "doubled", "halved", "streamlined", "transformed",
         "simplified", "sped up", "opened up"]
METRICS = ["waiting times", "costs", "response times", "complaints", "processing time",
           "backlog", "drop-out rates", "missed appointments", "duplicate work", "emissions"]
PLACES = [f"{a}{b}" for a in ("North", "South", "East", "West", "Upper", "Lower", "New",
                              "Old", "Great", "Little", "Har", "Ash", "Elm", "Stone")
          for b in ("bridge", "field", "ham", "ford", "port", "wick", "ton", "mouth", "stead")]
BODIES = ["City Council", "County Council", "Borough Council", "Regional Authority",
          "District Council", "Metropolitan Council"]
LEVELS = ["municipal", "regional", "national", "international"]
ARTICLE_OPENINGS = ["A practical guide to", "Five lessons on", "Getting started with",
                    "Why we changed"]
OPENERS = [
    "The team started from the problem residents described, not from the technology.",
    "Before the change, {m} had risen for three years in a row.",
    "We mapped every step of the process with the people who do the work.",
    "A small multidisciplinary team ran the work for twelve months.",
    "Senior leaders agreed one measurable target and published it.",
]
SENTENCES = [
    "The {a} was redesigned around what users need, and {b} became part of every decision.",
    "Staff used {a} to find where {b} caused the most delay.",
    "Within a year the {m} fell, and the savings paid for better {a}.",
    "The biggest lesson was that {a} only works when {b} is planned from the start.",
    "Partners shared {a} data weekly, which made {b} visible to everyone.",
    "Front-line teams challenged the {a} and improved it twice in the first month.",
    "An independent evaluation compared {a} with areas that kept the old {b}.",
    "The council published the {a} so residents could see progress on {b}.",
    "Training on {a} was delivered on real projects rather than in classrooms.",
    "Costs were tracked against the {a} budget, and {b} was reviewed every quarter.",
    "Suppliers said the new {a} made it easier to take part in {b}.",
    "Results were strongest where {a} and {b} were led by the same manager.",
]


def _phrase(rng: random.Random, topics: list[str]) -> str:
    return rng.choice(TOPICS[rng.choice(topics)])


def _body(rng: random.Random, topics: list[str], sentences: int) -> str:
    paragraphs, paragraph = [], [rng.choice(OPENERS).format(m=rng.choice(METRICS))]
    for n in range(sentences):
        paragraph.append(rng.choice(SENTENCES).format(a=_phrase(rng, topics),
                                                     b=_phrase(rng, topics),
                                                     m=rng.choice(METRICS)))
        if n % 4 == 3:
            paragraphs.append(" ".join(paragraph))
            paragraph = []
    paragraphs.append(" ".join(paragraph))
    return "\n\n".join(p for p in paragraphs if p)


def entry(rng: random.Random, n: int, authors: list[str]) -> dict[str, Any]:
    """One generated entry, as `collab import-library` reads it."""
    kind = rng.choices(["article", "case_study", "paper"], weights=[40, 35, 25])[0]
    topics = rng.sample(list(TOPICS), rng.choice([1, 1, 2, 2, 3]))
    main = _phrase(rng, topics)
    place = rng.choice(PLACES)
    published = (f"{rng.randint(2012, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                 "T10:00:00Z")
    data: dict[str, Any] = {"kind": kind, "topics": topics, "author": rng.choice(authors),
                            "published_at": published, "featured": rng.random() < 0.01}
    if kind == "case_study":
        metric, verb = rng.choice(METRICS), rng.choice(VERBS)
        data.update(
            title=f"How {place} {verb} {metric} with {main} ({n})",
            summary=f"{place} {rng.choice(BODIES)} used {main} and "
                    f"{_phrase(rng, topics)}; {metric} {verb.split()[0]} within a year.",
            body=_body(rng, topics, rng.randint(6, 14)),
            jurisdiction=f"{place} {rng.choice(BODIES)}", level=rng.choice(LEVELS),
            year=int(published[:4]), problem=_body(rng, topics, 3),
            actions=_body(rng, topics, 5), lessons=_body(rng, topics, 2),
            outcomes=[{"label": metric.capitalize(), "value": -rng.randint(5, 60), "unit": "%"},
                      {"label": "People helped", "value": rng.randint(100, 90_000),
                       "unit": "people"}])
    elif kind == "paper":
        data.update(
            title=f"{rng.choice(['The effects of', 'Evidence on', 'A review of'])} {main} "
                  f"and {_phrase(rng, topics)} ({n})",
            summary=f"A study of {main} across {rng.randint(5, 300)} public bodies.",
            abstract=_body(rng, topics, rng.randint(4, 8)), body="",
            authors=[f"{rng.choice('ABCDEFGHJKLMNPRST')}. {rng.choice(PLACES)}"
                     for _ in range(rng.randint(1, 4))],
            year=int(published[:4]), publisher=f"Journal of {rng.choice(list(TOPICS)).title()}",
            doi=f"10.5555/bench.{n}")
    else:
        data.update(
            title=f"{rng.choice(ARTICLE_OPENINGS)} {main} ({n})",
            summary=f"What {place} learned about {main} and {_phrase(rng, topics)}.",
            body=_body(rng, topics, rng.randint(8, 18)))
    return data


def write_library(path: Path, count: int, authors: list[str], seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w") as out:
        out.writelines(json.dumps(entry(rng, n, authors)) + "\n" for n in range(count))


REAL_QUERIES = [
    "procurement framework", "emergency response times", "data sharing agreement",
    "flood warning", "apprenticeship", "small businesses tender", "cooling centres",
    "participatory budgeting", "digital skills", "open data", "accessibility",
    "electric fleet", "zero-based budgeting", "after-action review", "dispatch control room",
    "resource allocation", "predictive model", "heat vulnerability", "net zero retrofit",
    "citizens' assembly", "user research", "contract management", "value for money",
    '"task force"', "mentoring retention", "grant programme evaluation", "legacy system cloud",
    "wildfire evacuation", "social value", "consultation plain language", "backlog",
    "waiting times", "recruitment", "dashboard performance indicators", "co-design",
    "carbon budget", "mutual aid", "bid evaluation", "assisted digital", "capital programme",
]


def queries(count: int, seed: int = 11) -> list[str]:
    """Real-looking queries: curated ones, vocabulary pairs, and words half typed."""
    rng = random.Random(seed)
    vocab = [w for words in TOPICS.values() for w in words]
    out = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.4:
            out.append(rng.choice(REAL_QUERIES))
        elif roll < 0.7:
            out.append(" ".join(rng.sample(vocab, rng.choice([1, 2]))))
        elif roll < 0.9:
            word = rng.choice(vocab).split()[0]
            out.append(word[:max(3, len(word) - rng.randint(1, 4))])  # still typing
        else:
            out.append(f"{rng.choice(vocab)} {rng.choice(METRICS)}")
    return out


def facets(rng: random.Random) -> dict[str, str]:
    choice = rng.random()
    if choice < 0.3:
        return {"kind": rng.choice(["article", "case_study", "paper"])}
    if choice < 0.55:
        return {"topic": rng.choice(list(TOPICS))}
    if choice < 0.75:
        return {"kind": "case_study", "level": rng.choice(LEVELS)}
    return {"year": str(rng.randint(2012, 2025)), "sort": rng.choice(["relevance", "date"])}


# ---------------------------------------------------------------------------------------------
# Measuring


class Client:
    """One keep-alive HTTP connection; returns (server ms from Server-Timing, client ms)."""

    def __init__(self, base: str) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[float, float, int]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers=headers or {})
        response = self.conn.getresponse()
        body = response.read()
        client_ms = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path} -> {response.status}: {body[:300]!r}")
        timing = response.getheader("server-timing") or ""
        server_ms = float(timing.partition("dur=")[2] or "nan")
        return server_ms, client_ms, len(body)

    def close(self) -> None:
        self.conn.close()


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1],
            "mean": statistics.fmean(ordered), "n": len(ordered)}


def measure(client: Client, paths: list[str], headers: dict[str, str] | None = None
            ) -> dict[str, Any]:
    for path in paths[:WARMUP]:
        client.get(path, headers)
    server, rtt = [], []
    for path in paths:
        s, c, _size = client.get(path, headers)
        server.append(s)
        rtt.append(c)
    return {"server_ms": percentiles(server), "client_ms": percentiles(rtt)}


def _path(base: str, params: dict[str, str]) -> str:
    return base + "?" + urllib.parse.urlencode(params)


def run_database(ctx: Any, database: str, url: str) -> dict[str, Any]:
    """Import the generated library into a fresh collab on `url`, then time the searches."""
    import run  # bench/run.py, which imported this module

    a = ctx.args
    server = ctx.start("collab", f"collab-library-{database}", url)
    try:
        creds = [{"username": name, "password": "bench-password-0123456789"}
                 for name in ("bench", "writer1", "writer2", "writer3")]
        for body in creds:
            try:
                run.http_json("POST", server.base + "/api/users", body)
            except RuntimeError:
                pass  # there already (a database reused by --keep)
        library = ctx.workdir / f"library-{a.entries}.jsonl"
        if not library.exists():
            write_library(library, a.entries, [c["username"] for c in creds])
        env = run.collab_env(url, ctx.redis.url, a.collab_env)
        started = time.monotonic()
        with open(ctx.logdir / f"import-{database}.log", "wb") as log:
            done = subprocess.run(
                run.pinned([run.PYTHON, "-m", "collab.cli", "import-library", str(library)],
                           ctx.placement.server),
                env=env, cwd=run.ROOT, stdout=subprocess.PIPE, stderr=log, timeout=3600,
                check=False)
        seconds = time.monotonic() - started
        summary = done.stdout.decode().strip()
        if done.returncode != 0:
            raise RuntimeError(f"collab import-library failed ({done.returncode}): {summary}")
        # The command's own rate (from its last line) leaves out Python's start-up and the
        # imports of every domain, which the wall time of the whole command includes.
        own = re.search(r"\(([\d,]+) entries/s\)", summary)
        result: dict[str, Any] = {"database": database, "entries": a.entries,
                                  "import_s": seconds, "import_per_s": a.entries / seconds,
                                  "import_own_per_s": int(own.group(1).replace(",", ""))
                                  if own else None, "import_output": summary}
        rng = random.Random(5)
        texts = queries(a.queries)
        client = Client(server.base)
        try:
            result["search"] = measure(client, [_path("/api/library", {"q": q})
                                                for q in texts])
            result["search_facets"] = measure(client, [
                _path("/api/library", {"q": q, **facets(rng)}) for q in texts])
            # As the page asks while someone types: every prefix of a few queries.
            typed = [q[:n] for q in texts[: max(1, a.queries // 6)] for n in range(3, len(q) + 1)]
            result["fragment"] = measure(client, [_path("/library", {"q": q})
                                                  for q in typed[: a.queries]],
                                         {"HX-Request": "true"})
        finally:
            client.close()
        return result
    finally:
        server.stop()


def scenario(ctx: Any) -> dict[str, Any]:
    """Every database of --databases; PostgreSQL gets a database of its own."""
    import run

    results: dict[str, Any] = {}
    for database in [d for d in ctx.args.databases.split(",") if d]:
        print(f"   ... library: {database}", file=sys.stderr, flush=True)
        try:
            if database == "postgres":
                if ctx.postgres is None:
                    ctx.postgres = run.Postgres(ctx.workdir, ctx.placement.loadgen)
                name = f"library_{random.randrange(10**6)}"
                ctx.postgres._run([str(run.PG_BIN / "createdb"), "-h", "127.0.0.1", "-p",
                                   str(ctx.postgres.port), "-U", "postgres", name],
                                  ctx.workdir / "createdb.log")
                url = f"postgresql://postgres@127.0.0.1:{ctx.postgres.port}/{name}"
            else:
                url = ctx.sqlite_url("collab-library")
            results[database] = run_database(ctx, database, url)
        except Exception as exc:  # report it and go on with the other database
            print(f"!! library on {database} failed: {exc}", file=sys.stderr)
            results[database + "_error"] = str(exc)
    print_table(ctx.args, results)
    return results


def print_table(args: Any, results: dict[str, Any]) -> None:
    dbs = [k for k in results if not k.endswith("_error")]
    print(f"\nlibrary: {args.entries:,} entries loaded with collab import-library, "
          f"{args.queries} queries per row, one at a time (ms: handler time from "
          f"Server-Timing; client round trip in brackets)")
    if not dbs:
        print("  (no database finished)")
        return
    print(f"  {'':34}" + "".join(f"{db:>26}" for db in dbs))
    print(f"  {'import, whole command (entries/s)':34}"
          + "".join(f"{results[db]['import_per_s']:>26,.0f}" for db in dbs))
    print(f"  {'import, loading (entries/s)':34}"
          + "".join(f"{results[db]['import_own_per_s'] or 0:>26,}" for db in dbs))

    def row(label: str, key: str, target: float) -> None:
        cells = []
        for db in dbs:
            s, c = results[db][key]["server_ms"], results[db][key]["client_ms"]
            flag = "ok" if s["p95"] < target else "OVER"
            cells.append(f"{s['p50']:.1f} / {s['p95']:.1f} ({c['p95']:.1f}) {flag}")
        print(f"  {label:34}" + "".join(f"{cell:>26}" for cell in cells))

    row(f"search p50 / p95 (< {SEARCH_P95_MS:g})", "search", SEARCH_P95_MS)
    row(f"search + facets p50 / p95 (< {SEARCH_P95_MS:g})", "search_facets", SEARCH_P95_MS)
    row(f"as-you-type page p50 / p95 (< {FRAGMENT_P95_MS:g})", "fragment", FRAGMENT_P95_MS)
