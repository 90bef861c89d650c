"""Library entries are rendered once, when written, and read as stored HTML (issue 21, item 4).

Reading an entry re-rendered every Markdown field on every GET: a large case study cost 2.5 to
5.8 s per GET, anonymously. Now a revision keeps its rendered fields; a GET reads them (proved
by changing the stored HTML behind the server's back), and a hostile text costs its author's
request a bounded time, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import asyncpg
import orjson
from support.api import Api
from support.servers import ServerFactory

from collab.markdown import plain_html

HOSTILE = {"problem": "![" * 5_000, "actions": "[" * 10_000, "lessons": "<" * 10_000}


def _sql(url: str, statement: str, *args: Any) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            conn.execute(statement.replace("$1", "?").replace("$2", "?"), args)
        return

    async def run() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    asyncio.run(run())


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def test_entries_are_rendered_when_written_and_read_as_stored(
        live_server: ServerFactory, database_url: str) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        author = api.register()
        spent, created = _timed(lambda: api.http.post("/api/library", headers=author.auth, json={
            "kind": "case_study", "title": "A costly case", "summary": "Hostile sections.",
            "body": "**bold** start", "topics": ["climate"], "jurisdiction": "Testshire",
            "level": "municipal", **HOSTILE}))
        assert created.status_code == 201, created.text[:300]
        assert spent < 1, f"creating took {spent:.2f} s"
        entry = created.json()
        assert entry["body_html"] == "<p><strong>bold</strong> start</p>"
        # Over its cost, a section is shown as its escaped text.
        assert entry["lessons_html"] == plain_html(HOSTILE["lessons"])

        _sql(database_url, "UPDATE library_revisions SET rendered = $1 WHERE entry = $2",
             orjson.dumps({"body_html": "<p>as stored</p>"}).decode(), entry["id"])
        spent, read = _timed(lambda: api.http.get(f"/api/library/{entry['id']}",
                                                  headers=author.auth))
        assert read.status_code == 200 and spent < 1
        view = read.json()
        assert view["body_html"] == "<p>as stored</p>"
        # A field the stored copy lacks is shown as escaped text, never rendered on a GET.
        assert view["problem_html"] == plain_html(HOSTILE["problem"])

        # An edit renders the new revision's fields again.
        edited = api.http.put(f"/api/library/{entry['id']}", headers=author.auth,
                              json={"body": "*new* body"})
        assert edited.status_code == 200, edited.text[:300]
        assert edited.json()["body_html"] == "<p><em>new</em> body</p>"
