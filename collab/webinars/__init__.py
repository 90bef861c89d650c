"""Webinars and workshops: a schedule, registration, and a live room with chat, upvoted Q&A
and polls."""

from collab.domain import Domain, NavEntry

from . import api, export, ics, pages, seed, site
from .channels import BackstageChannel, WebinarChannel
from .migrations import MIGRATIONS
from .openapi import PATHS, SCHEMAS

DOMAIN = Domain(
    name="webinars",
    routes=[*api.routes, *ics.routes, *export.routes, *pages.routes],
    channels=[WebinarChannel, BackstageChannel],
    nav=[NavEntry("Webinars", "/webinars", order=20)],
    seed=seed.seed,
    search=site.SOURCE,
    describe_actions=site.describe_actions,
    whats_new=site.whats_new,
    contributions=site.contributions,
    migrations=MIGRATIONS,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
)
