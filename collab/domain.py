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
    from collab.realtime import ChannelKind, Hub
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
class SearchResults:
    """A source's hits with the number it found in all (when it can count them cheaply)."""

    hits: list[SearchHit]
    total: int | None = None


@dataclass(frozen=True)
class SearchSource:
    """A domain's contribution to the site-wide search box (`/search`, `GET /api/search`).

    `search(query, viewer, limit)` returns hits the viewer may see, best first (a list, or
    `SearchResults` when the source also knows how many there are).
    """

    name: str
    label: str
    search: Callable[[str, Any, int], Awaitable[list[SearchHit] | SearchResults]]
    # Sources are listed in this order on `/search` and in `GET /api/search`; lower first.
    order: int = 50


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit log as the site hands it to the domains to put into words."""

    id: int
    actor_username: str
    action: str
    target: str
    details: str


@dataclass(frozen=True)
class ActionText:
    """An audit row in words, without its actor (the site names them): "pinned “Lots”"."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class HomeItem:
    """One line of a block on the front door."""

    title: str
    url: str
    summary: str = ""
    # ISO 8601; the page shows it as a relative time.
    date: str | None = None
    # A short tag beside the title ("live", "members only", "case study").
    tag: str = ""


@dataclass(frozen=True)
class HomeBlock:
    """A domain's part of the front door (`/`): what is new there for this viewer."""

    title: str
    items: Sequence[HomeItem]
    more_label: str = ""
    more_url: str = ""
    # Blocks are shown in this order; lower first.
    order: int = 50
    # Shown when `items` is empty (None: the block is left out).
    empty: str | None = None


@dataclass(frozen=True)
class Contribution:
    """What a member did in one product, as their profile shows it: "12 forum posts"."""

    label: str
    count: int
    # A list of them, where the product has one.
    url: str | None = None


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
    search: SearchSource | None = None
    # The audit log in words: the rows this domain knows (by their action), by row id.
    describe_actions: Callable[[Sequence[AuditRow]], Awaitable[Mapping[int, ActionText]]] | None = None
    # The front door's blocks of this domain for a viewer (None: signed out); may be none.
    whats_new: Callable[[Any], Awaitable[Sequence[HomeBlock]]] | None = None
    # A member's contributions (by user id) as `viewer` may see them, for their profile.
    contributions: Callable[[int, Any], Awaitable[Sequence[Contribution]]] | None = None
    # OpenAPI 3.1 path items for this domain's /api/ routes, and component schemas.
    openapi_paths: Mapping[str, Any] = field(default_factory=dict)
    openapi_schemas: Mapping[str, Any] = field(default_factory=dict)
    # Done once when the app starts (after the database connects), e.g. caches.
    on_start: Callable[[Hub], Awaitable[None]] | None = None
    # `collab` subcommands: each adds a subparser to the argparse `subparsers` it is given and
    # sets `func` (taking the parsed args, returning an exit code) as the built-in ones do.
    commands: Sequence[Callable[[Any], None]] = ()


def target_id(target: str, kind: str) -> int | None:
    """The id in an audit target or detail such as `thread:12`, when it names a `kind`."""
    prefix, _, rest = target.partition(":")
    return int(rest) if prefix == kind and rest.isascii() and rest.isdigit() else None
