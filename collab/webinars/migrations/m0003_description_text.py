"""Webinars: the description as plain text, written with it (the calendar files and the site
search read it; working it out per request cost up to 75 ms a hostile description, times the
200 webinars of the feed). Existing rows are filled here."""

from __future__ import annotations

import sqlalchemy as sa

from collab.webinars.plain import plain_text


def upgrade(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE webinars ADD COLUMN description_text TEXT DEFAULT '' "
                         "NOT NULL")
    rows = conn.exec_driver_sql("SELECT id, description_html FROM webinars").all()
    for row_id, html_text in rows:
        conn.execute(sa.text("UPDATE webinars SET description_text = :t WHERE id = :id"),
                     {"t": plain_text(html_text or ""), "id": row_id})
