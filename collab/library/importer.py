"""`collab import-library FILE`: published entries from JSON lines, for moving a library in.

One JSON object per line: the fields of `POST /api/library` (`kind`, `title`, `summary`,
`body`, `topics`, and the kind's own) plus `"author"` (an existing username) and optionally
`"published_at"` (ISO 8601 with an offset), `"featured"` (bool). Each line is checked with the
same rules as the API; a bad line is reported with its number and skipped, the others are
loaded. Entries go in batches (one multi-row INSERT per table per batch, in one transaction),
already published as revision 1, with an `import` row in their history. Importing announces
nothing on the hub: moving a library in is not publishing news.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
import sqlalchemy as sa

from collab import db
from collab.clock import utcnow
from collab.commands import with_db
from collab.errors import CollabError, Invalid
from collab.fields import bool_field, datetime_field

from . import content as c
from .service import entries, entry_topics, history, revisions, topic_map, topics_table, users

MAX_LINE = 1_000_000
BATCH = 500


@dataclass
class Report:
    imported: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.imported / self.seconds if self.seconds else 0.0


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def read_line(raw: bytes, topics: dict[str, str], authors: dict[str, int]
              ) -> tuple[str, dict[str, Any], int, Any, bool]:
    """One line as (kind, content, author id, published_at, featured); `Invalid` if bad."""
    if len(raw) > MAX_LINE:
        raise Invalid(f"the line is longer than {MAX_LINE:,} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise Invalid("each line must be a JSON object")
    kind = c.check_kind(data.get("kind"))
    content = c.read_content(kind, data, topics)
    username = data.get("author")
    if not isinstance(username, str) or username.lower() not in authors:
        raise Invalid(f"author must be the username of an existing member, not {username!r:.60}")
    published_at = datetime_field(data, "published_at") or utcnow()
    featured = bool_field(data, "featured", False)
    return kind, content, authors[username.lower()], published_at, featured


async def _authors() -> dict[str, int]:
    async with db.database.connection() as conn:
        rows = (await conn.execute(sa.select(users.c.id, users.c.username))).all()
    return {r.username.lower(): r.id for r in rows}


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


async def _add_topics(lines: list[tuple[int, bytes]], known: dict[str, str],
                      authors: dict[str, int]) -> int:
    """Create the topics the file names that the library does not have yet: well-formed slugs
    (a-z, 0-9 and single hyphens, as `POST /api/library/topics` makes them) named by a line
    that loads with them. A name that is not a slug ("Procurement") is left to be refused
    with its line, not made a second topic beside `procurement`."""
    candidates: dict[str, str] = {}
    for _number, raw in lines:
        try:
            topics = orjson.loads(raw).get("topics") or []
        except (orjson.JSONDecodeError, AttributeError):
            continue
        for topic in topics if isinstance(topics, list) else []:
            if isinstance(topic, str) and len(topic) <= 40 and _SLUG.fullmatch(topic) \
                    and topic not in known:
                candidates[topic] = topic.replace("-", " ").capitalize()
    wanted: dict[str, None] = {}
    if candidates:
        widened = {**known, **candidates}
        for _number, raw in lines:
            try:
                content = read_line(raw, widened, authors)[1]
            except CollabError:
                continue
            wanted.update((t, None) for t in content["topics"] if t in candidates)
    if wanted:
        async with db.write_transaction():
            conn = db.database.get_transaction_connection()
            await conn.execute(topics_table.insert(), [
                {"slug": slug, "name": candidates[slug], "description": "",
                 "position": len(known) + n} for n, slug in enumerate(wanted, start=1)])
        from . import service

        service._topics = (0.0, {})
    return len(wanted)


async def _insert(batch: list[tuple[str, dict[str, Any], int, Any, bool]],
                  topics: dict[str, str]) -> None:
    now = utcnow()
    rows = []
    for kind, content, author, published_at, featured in batch:
        rows.append({"kind": kind, "author": author, "state": "published", "reviewer_id": None,
                     "latest_revision": 1, "published_revision": 1, "featured": featured,
                     "created_at": published_at, "updated_at": now,
                     "first_published_at": published_at, "published_at": published_at,
                     **c.search_copy(kind, content, topics, published_at)})
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        result = await conn.execute(
            entries.insert().returning(entries.c.id, sort_by_parameter_order=True), rows)
        ids = [r[0] for r in result.all()]
        await conn.execute(revisions.insert(), [
            {"entry": entry_id, "number": 1, "editor": author, "title": content["title"],
             "summary": content["summary"], "body": content["body"],
             "topics": orjson.dumps(content["topics"]).decode(),
             "details": c.details_json(kind, content),
             "rendered": orjson.dumps(c.rendered_fields(kind, content)).decode(),
             "created_at": published_at,
             "updated_at": now, "published_at": published_at}
            for entry_id, (kind, content, author, published_at, _f) in zip(ids, batch,
                                                                            strict=True)])
        await conn.execute(entry_topics.insert(), [
            {"entry": entry_id, "topic": topic}
            for entry_id, (_k, content, *_rest) in zip(ids, batch, strict=True)
            for topic in content["topics"]])
        await conn.execute(history.insert(), [
            {"entry": entry_id, "revision": 1, "actor": None, "action": "import",
             "from_state": "", "to_state": "published", "comment": "", "created_at": now}
            for entry_id in ids])


async def import_library(stream: IO[bytes], *, batch_size: int = BATCH, add_topics: bool = False,
                         progress: IO[str] | None = None) -> Report:
    """Load every good line of `stream`; returns what was imported and what was refused."""
    report = Report()
    started = time.monotonic()
    lines = list(_lines(stream))
    topics = await topic_map()
    authors = await _authors()
    if add_topics and await _add_topics(lines, topics, authors):
        topics = await topic_map()
    batch: list[tuple[str, dict[str, Any], int, Any, bool]] = []

    async def flush() -> None:
        await _insert(batch, topics)
        report.imported += len(batch)
        batch.clear()
        if progress is not None:
            elapsed = time.monotonic() - started
            print(f"  {report.imported:,} of {len(lines):,} lines imported "
                  f"({report.imported / max(elapsed, 1e-9):,.0f} entries/s)", file=progress,
                  flush=True)

    for number, raw in lines:
        try:
            batch.append(read_line(raw, topics, authors))
        except CollabError as exc:
            report.refused.append((number, exc.message))
            if progress is not None:
                print(f"line {number}: {exc.message}", file=progress, flush=True)
            continue
        if len(batch) >= batch_size:
            await flush()
    if batch:
        await flush()
    if db.is_sqlite() and report.imported:
        # Merge the full-text index's segments once, as a bulk load leaves many of them.
        async with db.write_transaction():
            conn = db.database.get_transaction_connection()
            await conn.exec_driver_sql("INSERT INTO library_fts(library_fts) VALUES ('optimize')")
            await conn.exec_driver_sql(
                "INSERT INTO library_words(library_words) VALUES ('optimize')")
    elif report.imported:
        # Statistics for the planner now, not whenever autovacuum gets to it: searches right
        # after a 10,000-entry import ran at 67 ms instead of 17 ms (p50) on stale ones.
        async with db.write_transaction():
            conn = db.database.get_transaction_connection()
            await conn.exec_driver_sql("ANALYZE library_entries, library_entry_topics")
            # And the new entries' words moved into the full-text indexes proper: GIN keeps
            # recent insertions in a pending list that every search reads through, until
            # autovacuum (not ANALYZE) cleans it.
            await conn.exec_driver_sql(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE i.indrelid = 'library_entries'::regclass AND a.amname = 'gin'")
    report.seconds = time.monotonic() - started
    return report


def cmd_import(args: argparse.Namespace) -> int:
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        sys.exit(f"collab: cannot read {args.file}: {exc.strerror}")
    with stream:
        report = asyncio.run(with_db(lambda: import_library(
            stream, batch_size=max(1, args.batch), add_topics=args.add_topics,
            progress=sys.stderr)))
    print(f"imported {report.imported:,} entries in {report.seconds:.1f} s "
          f"({report.rate:,.0f} entries/s); {len(report.refused):,} lines refused")
    return 1 if report.refused else 0


def add_command(sub: Any) -> None:
    """`collab import-library FILE [--batch N] [--add-topics]`."""
    parser = sub.add_parser("import-library", help="load published library entries from a "
                            "JSON-lines file (see docs/protocol.md)")
    parser.add_argument("file", help="the JSON-lines file, or - for standard input")
    parser.add_argument("--batch", type=int, default=BATCH, help="entries per transaction")
    parser.add_argument("--add-topics", action="store_true",
                        help="create topics the file names that the library does not have")
    parser.set_defaults(func=cmd_import)
