"""The library's tables: topics, entries, their revisions, and the review history.

An entry is the stable thing a link points at (`/library/ID`); its content lives in numbered
revisions. The entry row also carries a plain-text copy of its published revision (title,
summary, body text, topics, filters): that copy is what search indexes (SQLite FTS5 through
triggers, PostgreSQL through a generated `tsvector` column; see migrations.py), so that
drafts are never searchable and a revision in review never hides the published one.
"""

from __future__ import annotations

import datetime as dt

import ormar

from collab.accounts.models import User
from collab.clock import utcnow
from collab.db import base_config


class Topic(ormar.Model):
    """One of the editable list of topics (procurement, digital services, ...)."""

    ormar_config = base_config.copy(tablename="library_topics")

    slug: str = ormar.String(max_length=40, primary_key=True)
    name: str = ormar.String(max_length=80)
    description: str = ormar.Text(default="")
    position: int = ormar.Integer(default=0)


class Entry(ormar.Model):
    ormar_config = base_config.copy(
        tablename="library_entries",
        constraints=[ormar.IndexColumns("published_revision", "published_at",
                                        name="ix_library_entries_published"),
                     ormar.IndexColumns("state", "updated_at", name="ix_library_entries_state"),
                     ormar.IndexColumns("author", "updated_at", name="ix_library_entries_author")],
    )

    id: int = ormar.Integer(primary_key=True)
    kind: str = ormar.String(max_length=20)
    author: User = ormar.ForeignKey(User, related_name="library_entries")
    # The state of the newest revision: draft, submitted, in_review, changes_requested or
    # published (then the newest revision is the published one).
    state: str = ormar.String(max_length=20, default="draft")
    # The expert who claimed the newest revision for review (None when nobody has).
    reviewer_id: int | None = ormar.Integer(nullable=True)
    latest_revision: int = ormar.Integer(default=1)
    published_revision: int | None = ormar.Integer(nullable=True)
    featured: bool = ormar.Boolean(default=False)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    updated_at: dt.datetime = ormar.DateTime(default=utcnow)
    first_published_at: dt.datetime | None = ormar.DateTime(nullable=True)
    published_at: dt.datetime | None = ormar.DateTime(nullable=True)
    # The published revision, as search and the lists read it (empty until first published).
    title: str = ormar.String(max_length=200, default="")
    summary: str = ormar.Text(default="")
    body_text: str = ormar.Text(default="")
    topics_text: str = ormar.Text(default="")
    topic_slugs: str = ormar.String(max_length=400, default="[]")  # JSON array
    jurisdiction: str = ormar.String(max_length=100, default="", index=True)
    level: str = ormar.String(max_length=20, default="")
    year: int | None = ormar.Integer(nullable=True, index=True)


class Revision(ormar.Model):
    ormar_config = base_config.copy(
        tablename="library_revisions",
        constraints=[ormar.UniqueColumns("entry", "number", name="uq_library_revisions_number")],
    )

    id: int = ormar.Integer(primary_key=True)
    entry: Entry = ormar.ForeignKey(Entry, ondelete="CASCADE", related_name="revisions")
    number: int = ormar.Integer()
    editor: User = ormar.ForeignKey(User, related_name="library_revisions")
    title: str = ormar.String(max_length=200)
    summary: str = ormar.Text(default="")
    body: str = ormar.Text(default="")
    # JSON: the topic slugs, and the kind's own fields (case study: jurisdiction, level,
    # problem, actions, outcomes, lessons, contacts; paper: authors, year, publisher, url,
    # doi, abstract).
    topics: str = ormar.Text(default="[]")
    details: str = ormar.Text(default="{}")
    # JSON: the Markdown fields rendered when the revision was written, `{"body_html", ...}`
    # (content.rendered_fields): reading an entry never renders.
    rendered: str = ormar.Text(default="{}")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    updated_at: dt.datetime = ormar.DateTime(default=utcnow)
    published_at: dt.datetime | None = ormar.DateTime(nullable=True)


class EntryTopic(ormar.Model):
    """The published revision's topics, one row each (filters and facet counts)."""

    ormar_config = base_config.copy(
        tablename="library_entry_topics",
        constraints=[ormar.UniqueColumns("entry", "topic", name="uq_library_entry_topics"),
                     ormar.IndexColumns("topic", "entry", name="ix_library_entry_topics_topic")],
    )

    id: int = ormar.Integer(primary_key=True)
    entry: Entry = ormar.ForeignKey(Entry, ondelete="CASCADE", related_name="topic_rows")
    topic: str = ormar.String(max_length=40)


class HistoryItem(ormar.Model):
    """Every state change and every review comment, in order, never edited."""

    ormar_config = base_config.copy(
        tablename="library_history",
        constraints=[ormar.IndexColumns("entry", "id", name="ix_library_history_entry")],
    )

    id: int = ormar.Integer(primary_key=True)
    entry: Entry = ormar.ForeignKey(Entry, ondelete="CASCADE", related_name="history")
    revision: int = ormar.Integer()
    actor: User | None = ormar.ForeignKey(User, nullable=True, related_name="library_actions")
    action: str = ormar.String(max_length=30)
    from_state: str = ormar.String(max_length=20, default="")
    to_state: str = ormar.String(max_length=20, default="")
    comment: str = ormar.Text(default="")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
