"""Revisions keep their Markdown fields rendered: reading an entry never renders.

Every GET rendered each Markdown field again (a large case study cost 2.5-5.8 s per GET).
`rendered` holds a JSON object `{"body_html", ...}` written with the revision (service,
importer); this step adds it and fills it for the revisions already there, on SQLite and
PostgreSQL alike, with the same bounded renderer (collab/markdown.py).
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from .. import content as c

BATCH = 200


def upgrade(conn: sa.Connection) -> None:
    if not sa.inspect(conn).has_table("library_revisions"):
        return  # steps recorded without their tables (tests/unit/test_migrations.py)
    conn.exec_driver_sql("ALTER TABLE library_revisions ADD COLUMN rendered TEXT NOT NULL "
                         "DEFAULT '{}'")
    md = sa.MetaData()
    revisions = sa.Table("library_revisions", md, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("entry", sa.Integer), sa.Column("title", sa.String),
                         sa.Column("summary", sa.Text), sa.Column("body", sa.Text),
                         sa.Column("topics", sa.Text), sa.Column("details", sa.Text),
                         sa.Column("rendered", sa.Text))
    entries = sa.Table("library_entries", md, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("kind", sa.String))
    query = (sa.select(revisions.c.id, entries.c.kind, revisions.c.title, revisions.c.summary,
                       revisions.c.body, revisions.c.topics, revisions.c.details)
             .select_from(revisions.join(entries, entries.c.id == revisions.c.entry))
             .order_by(revisions.c.id))
    after = 0
    while True:
        rows = conn.execute(query.where(revisions.c.id > after).limit(BATCH)).all()
        if not rows:
            return
        conn.execute(revisions.update().where(revisions.c.id == sa.bindparam("rid"))
                     .values(rendered=sa.bindparam("html")), [
            {"rid": r.id, "html": orjson.dumps(c.rendered_fields(r.kind, c.content_of(
                r.kind, r.title, r.summary or "", r.body or "", r.topics, r.details))).decode()}
            for r in rows])
        after = rows[-1].id
