"""What the library tells the site: its front-door block."""

from __future__ import annotations

from typing import Any

from collab.domain import HomeBlock, HomeItem

from . import content, reading

HOME_ENTRIES = 6


async def whats_new(viewer: Any) -> HomeBlock:
    """The newest published entries (published entries are public)."""
    entries = await reading.published_list(limit=HOME_ENTRIES)
    items = [HomeItem(title=e["title"], url=e["url"], summary=e["summary"][:160],
                      date=e["published_at"], tag=content.KIND_LABELS.get(e["kind"], ""))
             for e in entries]
    return HomeBlock("New in the library", items, more_label="The library", more_url="/library",
                     order=20, empty="Nothing published yet.")
