"""Accounts: users, roles, passwords, sessions, API tokens, the `user:ID` channel."""

from collab.domain import Domain

from . import api, pages, preferences, seed, site
from .channels import UserChannel
from .migrations import MIGRATIONS
from .openapi import PATHS, SCHEMAS

DOMAIN = Domain(
    name="accounts",
    routes=[*api.routes, *pages.routes, *preferences.routes],
    channels=[UserChannel],
    seed=seed.seed,
    describe_actions=site.describe_actions,
    migrations=MIGRATIONS,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
)
