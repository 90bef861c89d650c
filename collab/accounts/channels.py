"""`user:ID`: one member's private channel (notifications); only that member may join."""

from __future__ import annotations

from collab.errors import Forbidden, NotFound, Unauthenticated
from collab.realtime import Actor, ChannelKind, Event, int_id

from .models import User


class UserChannel(ChannelKind):
    kind = "user"

    async def join(self, actor: Actor | None, id: str) -> None:
        user_id = int_id(id, self.kind)
        if actor is None:
            raise Unauthenticated("sign in to follow your notifications")
        if actor.id != user_id:
            if not await User.objects.filter(id=user_id).exists():
                raise NotFound(f"no user {user_id}")
            raise Forbidden("only that member may join a user channel")

    def render(self, event: Event) -> str | None:
        from collab.web import templates

        if event.type == "notification":
            return templates.get_template("accounts/_notification_oob.html").render(
                data=event.data)
        return None
