"""The library: articles, case studies and research papers, reviewed by experts before they
are published, searched with ranking on SQLite (FTS5) and PostgreSQL (tsvector)."""

from collab.domain import Domain, NavEntry, SearchSource
from collab.migrations.sqlite_ids import never_reuse_ids

from . import (
    api,
    importer,
    m0002_prefix,
    m0003_generation,
    m0004_pg_matches,
    m0005_rank_index,
    m0007_typed_prefix,
    m0008_pg_plain,
    m0009_pg_words,
    m0010_rendered,
    pages,
    seed,
)
from .channels import LibraryChannel
from .migrations import upgrade
from .openapi import PATHS, SCHEMAS
from .search import search_source

DOMAIN = Domain(
    name="library",
    routes=[*api.routes, *pages.routes],
    channels=[LibraryChannel],
    nav=[
        NavEntry("Library", "/library", prefixes=("/library",), order=20),
        NavEntry("Case studies", "/case-studies", order=21),
        NavEntry("Review queue", "/library/review", roles=("expert",), order=80),
    ],
    seed=seed.seed,
    migrations=[("library_0001_initial", upgrade),
                ("library_0002_prefix_index", m0002_prefix.upgrade),
                ("library_0003_generation", m0003_generation.upgrade),
                ("library_0004_pg_matches", m0004_pg_matches.upgrade),
                ("library_0005_rank_index", m0005_rank_index.upgrade),
                # Entries and revisions are never deleted; their topic links are replaced.
                ("library_0006_sqlite_ids", lambda conn: never_reuse_ids(
                    conn, ["library_entry_topics"])),
                ("library_0007_typed_prefix", m0007_typed_prefix.upgrade),
                ("library_0008_pg_plain", m0008_pg_plain.upgrade),
                ("library_0009_pg_words", m0009_pg_words.upgrade),
                ("library_0010_rendered", m0010_rendered.upgrade)],
    search=SearchSource(name="library", label="Library", search=search_source),
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
    commands=[importer.add_command],
)
