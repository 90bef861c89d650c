"""The plug: what a domain package hands the app, in one object (as Datasette lists its hooks).

A product is a package exporting `DOMAIN = Domain(...)` plus one line in `collab/domains.py`;
the app, the nav bar, `collab seed`, migrations, the OpenAPI description and the docs tests
loop over that list. Nothing else in the house changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from collab.realtime import ChannelKind, Event, Hub
    from collab.settings import Settings

MigrationStep = Callable[[sa.Connection], None]


@dataclass(frozen=True)
class NavEntry:
    """A link in the site's nav bar."""

    label: str
    href: str
    # Paths under which the entry is the current page (defaults to `href`).
    prefixes: tuple[str, ...] = ()
    # Who sees it: everyone, signed-in members only, or holders of one of these roles.
    signed_in: bool = False
    roles: tuple[str, ...] = ()
    order: int = 50

    def visible_to(self, user: Any) -> bool:
        if self.roles:
            return user is not None and user.has_role(*self.roles)
        return user is not None or not self.signed_in

    def current(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/")
                   for p in (self.prefixes or (self.href,)))


@dataclass
class SeedContext:
    """What `collab seed` hands each domain: the hub (events go to the store), the demo users."""

    hub: Hub
    settings: Settings
    users: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    """One result of the site-wide search, from whichever domain found it."""

    source: str
    kind: str
    id: int
    title: str
    url: str
    summary: str = ""
    snippet_html: str = ""
    score: float = 0.0
    date: str | None = None


@dataclass(frozen=True)
class SearchSource:
    """A domain's contribution to the site-wide search box (the library calls every source).

    `search(query, viewer, limit)` returns hits the viewer may see, best first.
    """

    name: str
    label: str
    search: Callable[[str, Any, int], Awaitable[list[SearchHit]]]


@dataclass(frozen=True)
class Domain:
    """Everything one product plugs into the app."""

    name: str
    # HTTP routes: JSON API under /api/ and pages.
    routes: Sequence[BaseRoute] = ()
    # Channel kinds registered with the hub.
    channels: Sequence[type[ChannelKind]] = ()
    nav: Sequence[NavEntry] = ()
    # Called by `collab seed` (in list order, after accounts made the demo users).
    seed: Callable[[SeedContext], Awaitable[str | None]] | None = None
    # Numbered schema steps, applied once each, in list order after those of earlier domains.
    migrations: Sequence[tuple[str, MigrationStep]] = ()
    # Called after every persisted event commits (e.g. notifications, recognition).
    listeners: Sequence[Callable[[Hub], Callable[[Event], Awaitable[None]]]] = ()
    search: SearchSource | None = None
    # OpenAPI 3.1 path items for this domain's /api/ routes, and component schemas.
    openapi_paths: Mapping[str, Any] = field(default_factory=dict)
    openapi_schemas: Mapping[str, Any] = field(default_factory=dict)
    # Done once when the app starts (after the database connects), e.g. caches.
    on_start: Callable[[Hub], Awaitable[None]] | None = None
    # `collab` subcommands: each adds a subparser to the argparse `subparsers` it is given and
    # sets `func` (taking the parsed args, returning an exit code) as the built-in ones do.
    commands: Sequence[Callable[[Any], None]] = ()
