"""Notifications: the one `notify` helper and its rules, the rows, the `/notifications` page.

Domains import `notify`, `mentioned` and `capped` from here (DESIGN.md: notifications may import
db, web, realtime and accounts; the products import it).
"""

from collab.domain import Domain
from collab.realtime import Hub

from . import api, pages, site
from .mentions import capped, mentioned
from .migrations import MIGRATIONS
from .notify import KINDS, configure, notification, notify
from .openapi import PATHS


async def _start(hub: Hub) -> None:
    configure(hub.settings)


DOMAIN = Domain(name="notifications", routes=[*api.routes, *pages.routes],
                migrations=MIGRATIONS, on_start=_start, whats_new=site.whats_new,
                openapi_paths=PATHS)

__all__ = ["DOMAIN", "KINDS", "capped", "configure", "mentioned", "notification", "notify"]
