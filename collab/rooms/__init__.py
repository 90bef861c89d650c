"""The forum: rooms, threads and posts that appear in every open browser at once."""

from collab.domain import Domain, NavEntry

from . import api, pages, seed, site
from .channels import RoomChannel, ThreadChannel
from .migrations import MIGRATIONS
from .openapi import PATHS, SCHEMAS
from .search import SOURCE

DOMAIN = Domain(
    name="rooms",
    routes=[*api.routes, *pages.routes],
    channels=[RoomChannel, ThreadChannel],
    nav=[
        NavEntry("Rooms", "/rooms", prefixes=("/rooms", "/threads", "/posts"), order=10),
        NavEntry("Flags", "/moderation/flags", roles=("moderator", "admin"), order=90),
    ],
    seed=seed.seed,
    migrations=MIGRATIONS,
    search=SOURCE,
    describe_actions=site.describe_actions,
    whats_new=site.whats_new,
    contributions=site.contributions,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
)
