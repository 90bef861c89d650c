"""The library: articles, case studies and research papers, reviewed by experts before they
are published, searched with ranking on SQLite (FTS5) and PostgreSQL (tsvector)."""

from collab.domain import Domain, NavEntry, SearchSource

from . import api, importer, pages, seed, site
from .channels import LibraryChannel
from .migrations import MIGRATIONS
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
    migrations=MIGRATIONS,
    search=SearchSource(name="library", label="Library", search=search_source, order=10),
    whats_new=site.whats_new,
    contributions=site.contributions,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
    commands=[importer.add_command],
)
