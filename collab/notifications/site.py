"""What the notification centre tells the site: a member's unread notifications, first on the
front door."""

from __future__ import annotations

from typing import Any

from collab.domain import HomeBlock, HomeItem

from . import reading

HOME_NOTES = 6


async def whats_new(viewer: Any) -> list[HomeBlock]:
    if viewer is None:
        return []
    notes = await reading.listing(viewer.id, unread_only=True, limit=HOME_NOTES)
    items = [HomeItem(title=n["text"], url=n["url"] if n["url"].startswith("/")
                      and not n["url"].startswith("//") else "/notifications",
                      date=n["created_at"], tag=n["kind"]) for n in notes]
    return [HomeBlock("Your unread notifications", items, more_label="All notifications",
                      more_url="/notifications", order=1, empty="Nothing new for you.")]
