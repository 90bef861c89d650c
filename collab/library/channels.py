"""`library:0`: the library's feed. `entry.published` goes out here when a revision is
published, for pages (the home's "new" list)."""

from __future__ import annotations

from typing import Any

from collab.errors import NotFound
from collab.realtime import Actor, ChannelKind


class LibraryChannel(ChannelKind):
    kind = "library"
    presence = False  # a feed of publications: nobody shows who is reading it
    fragments = {"entry.published": "library/_published_oob.html"}

    async def join(self, actor: Actor | None, id: int) -> None:
        # One public feed (published entries are public); no other id names anything.
        if id != 0:
            raise NotFound(f"no channel library:{id}")

    def fragment_context(self, event: Any) -> dict[str, Any]:
        return {"entry": event.data}
