"""`user:ID`: one member's private channel (notifications); only that member may join."""

from __future__ import annotations

from collab.errors import Forbidden, Unauthenticated
from collab.realtime import Actor, ChannelKind


class UserChannel(ChannelKind):
    kind = "user"
    presence = False  # one member's own channel: nobody to show
    fragments = {"notification": "accounts/_notification_oob.html",
                 "notifications.read": "notifications/_read_oob.html"}

    async def join(self, actor: Actor | None, id: int) -> None:
        if actor is None:
            raise Unauthenticated("sign in to follow your notifications")
        if actor.id != id:
            # The same answer whether or not that member exists: ids are not probed here.
            raise Forbidden("only that member may join a user channel")
