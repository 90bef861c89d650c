"""The library's part of the demo community (`collab seed`): entries through the workflow."""

from __future__ import annotations

from collab.accounts.auth import actor_of
from collab.domain import SeedContext

from . import service
from .models import Entry
from .seed_cases import CASE_STUDIES
from .seed_entries import REVIEWER
from .seed_writing import ARTICLES, PAPERS


async def seed(ctx: SeedContext) -> str | None:
    """Write, submit, review and publish the demo entries, unless the library has entries."""
    if await Entry.objects.exists():
        return None
    hub, users = ctx.hub, ctx.users
    reviewer = actor_of(users[REVIEWER])
    published = 0
    demo = [*CASE_STUDIES, *ARTICLES, *PAPERS]
    for item in demo:
        data = dict(item["data"])
        author = actor_of(users[item["author"]])
        entry_id = await service.create_entry(hub, author, data)
        stage = item.get("stage", "published")
        if stage == "draft":
            continue
        await service.submit(hub, author, entry_id)
        if stage == "submitted":
            continue
        await service.claim(hub, reviewer, entry_id)
        if stage == "changes_requested":
            await service.review(hub, reviewer, entry_id, {"decision": "request_changes",
                                                           "comment": item["comment"]})
            continue
        await service.review(hub, reviewer, entry_id, {"decision": "approve",
                                                       "comment": item.get("comment", "")})
        published += 1
        if item.get("featured"):
            await service.set_featured(reviewer, entry_id, {"featured": True})
        revision = item.get("revision")
        if revision:
            # A published entry with its next revision in review: the old one stays visible.
            await service.update_entry(hub, author, entry_id, revision)
            await service.submit(hub, author, entry_id)
            await service.claim(hub, reviewer, entry_id)
    return f"{len(demo)} library entries ({published} published)"
