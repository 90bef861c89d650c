"""What the library tells the site: its front-door blocks (new entries; a member's drafts;
the entries waiting for an expert)."""

from __future__ import annotations

from typing import Any

from collab.domain import Contribution, HomeBlock, HomeItem

from . import content, reading
from .models import Entry
from .service import STATE_LABELS, is_expert

HOME_ENTRIES = 6


async def whats_new(viewer: Any) -> list[HomeBlock]:
    """The newest published entries (published entries are public); to a member, their
    unpublished work; to an expert, what waits for a reviewer."""
    entries = await reading.published_list(limit=HOME_ENTRIES)
    items = [HomeItem(title=e["title"], url=e["url"], summary=e["summary"][:160],
                      date=e["published_at"], tag=content.KIND_LABELS.get(e["kind"], ""))
             for e in entries]
    blocks = [HomeBlock("New in the library", items, more_label="The library",
                        more_url="/library", order=20, empty="Nothing published yet.")]
    if viewer is None:
        return blocks
    drafts = [e for e in await reading.my_entries(viewer, limit=50)
              if e["state"] not in ("published",)][:HOME_ENTRIES]
    if drafts:
        blocks.append(HomeBlock("Your library drafts", [
            HomeItem(title=e["title"] or "Untitled draft", url=f"/library/{e['id']}",
                     summary=STATE_LABELS.get(e["state"], e["state"]), date=e["updated_at"])
            for e in drafts], more_label="All your entries", more_url="/library/mine", order=4))
    if is_expert(viewer):
        queue = await reading.review_queue(viewer, limit=50)
        waiting = [*queue["mine"], *queue["waiting"]][:HOME_ENTRIES]
        blocks.append(HomeBlock("Waiting for review", [
            HomeItem(title=e["title"] or "Untitled", url=f"/library/{e['id']}",
                     summary=STATE_LABELS.get(e["state"], e["state"]), date=e["updated_at"],
                     tag="yours" if e in queue["mine"] else "")
            for e in waiting], more_label="The review queue", more_url="/library/review",
            order=3, empty="Nothing is waiting for a reviewer."))
    return blocks


async def contributions(user_id: int, viewer: Any) -> list[Contribution]:
    """The member's published entries (published entries are public)."""
    count = await Entry.objects.filter(author=user_id, published_revision__isnull=False).count()
    return [Contribution("published library entries", count)]
