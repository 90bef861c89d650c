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


def test_the_migration_renders_the_revisions_already_there(database_url: str) -> None:
    from collab.migrations import all_migrations, migrate
    from collab.settings import normalise_database_url

    url = normalise_database_url(database_url)
    steps = all_migrations()
    cut = [version for version, _ in steps].index("library_0012_rendered")
    asyncio.run(migrate(url, steps[:cut]))
    details = orjson.dumps({"authors": [], "problem": "*slow*", "actions": "[" * 20_000,
                            "lessons": "", "jurisdiction": "X", "level": "municipal",
                            "outcomes": [], "contacts": [], "year": None}).decode()
    for statement, args in [
        (("INSERT INTO users (id, username, username_key, password_hash, display_name, "
         "created_at) VALUES (1, 'writer', 'writer', 'x', 'Writer', CURRENT_TIMESTAMP)"), ()),
        (("INSERT INTO library_entries (id, kind, author, state, latest_revision, featured, "
         "topic_slugs, title, summary, topics_text, body_text) VALUES "
         "(1, 'case_study', 1, 'draft', 1, false, '[]', '', '', '', '')"), ()),
        (("INSERT INTO library_revisions (entry, number, editor, title, summary, body, topics, "
         "details) VALUES (1, 1, 1, 'Old', 's', '**old** body', '[\"climate\"]', $1)"),
         (details,)),
    ]:
        _sql(database_url, statement, *args)
    assert asyncio.run(migrate(url))[0] == "library_0012_rendered"

    rendered: list[Any] = []

    async def read() -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.connect() as conn:
            rendered.extend((await conn.exec_driver_sql(
                "SELECT rendered FROM library_revisions")).scalars())
        await engine.dispose()

    asyncio.run(read())
    stored = orjson.loads(rendered[0])
    assert stored["body_html"] == "<p><strong>old</strong> body</p>"
    assert stored["problem_html"] == "<p><em>slow</em></p>"
    assert stored["actions_html"].startswith("<p>[[[") and stored["lessons_html"] == ""


def test_a_diff_too_costly_to_compute_says_so_on_the_api_and_the_page(
        live_server: ServerFactory, database_url: str) -> None:
    import random

    from support.api import create_admin

    server = live_server(database_url=database_url)
    admin = create_admin(server)
    rng = random.Random(4)
    words = [f"w{n}" for n in range(5_000)]
    old, new = (" ".join(rng.choice(words) for _ in range(8_000)) for _ in range(2))
    with Api(server.base_url) as api:
        author, expert = api.register(), api.register()
        granted = api.http.put(f"/api/users/{expert.username}/roles", headers=admin.auth,
                               json={"roles": ["expert"]})
        assert granted.status_code == 200, granted.text[:300]
        entry_id = api.http.post("/api/library", headers=author.auth, json={
            "kind": "article", "title": "Rewritten", "summary": "s", "body": old,
            "topics": ["climate"]}).json()["id"]
        for user, step, body in ((author, "submit", {}), (expert, "claim", {}),
                                 (expert, "review", {"decision": "approve"})):
            done = api.http.post(f"/api/library/{entry_id}/{step}", headers=user.auth, json=body)
            assert done.status_code == 200, done.text[:300]
        assert api.http.put(f"/api/library/{entry_id}", headers=author.auth,
                            json={"body": new}).status_code == 200

        spent, answer = _timed(lambda: api.http.get(
            f"/api/library/{entry_id}/diff?from=1&to=2", headers=author.auth))
        assert answer.status_code == 200 and spent < 1
        [body] = answer.json()["changes"]
        assert body["too_different"] is True
        assert body["ops"] == [{"op": "delete", "text": old}, {"op": "insert", "text": new}]
        api.login_session(author.username, author.password)  # pages read the session cookie
        page = api.http.get(f"/library/{entry_id}/diff?from=1&to=2")
        assert page.status_code == 200 and "Too different to compare" in page.text
