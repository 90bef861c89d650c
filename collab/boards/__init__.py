"""Kanban project boards: projects with members, columns and cards, edited live by the team."""

from collab.domain import Domain, NavEntry

from . import api, pages, seed, site
from .channels import BoardChannel
from .migrations import MIGRATIONS
from .openapi import PATHS, SCHEMAS

DOMAIN = Domain(
    name="boards",
    routes=[*api.routes, *pages.routes],
    channels=[BoardChannel],
    nav=[
        NavEntry("Projects", "/projects", prefixes=("/projects", "/boards", "/cards",
                                                    "/columns"), order=20),
        NavEntry("My tasks", "/me/tasks", signed_in=True, order=21),
    ],
    seed=seed.seed,
    search=site.SOURCE,
    describe_actions=site.describe_actions,
    whats_new=site.whats_new,
    contributions=site.contributions,
    migrations=MIGRATIONS,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
)
