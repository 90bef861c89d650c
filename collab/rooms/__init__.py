"""The forum: rooms, threads and posts that appear in every open browser at once."""

from collab.domain import Domain, NavEntry

from . import api, pages, seed
from .channels import RoomChannel, ThreadChannel
from .openapi import PATHS, SCHEMAS
from .search import SOURCE

DOMAIN = Domain(
    name="rooms",
    routes=[*api.routes, *pages.routes],
    channels=[RoomChannel, ThreadChannel],
    nav=[
        NavEntry("Rooms", "/rooms", prefixes=("/rooms", "/threads", "/posts"), order=10),
        NavEntry("Flags", "/moderation/flags", roles=("moderator", "admin"), order=90),
        NavEntry("Audit log", "/moderation/audit", roles=("moderator", "admin"), order=91),
    ],
    seed=seed.seed,
    search=SOURCE,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
)
