"""`room:ID` (new threads) and `thread:ID` (posts) on the hub, with their HTML fragments."""

from __future__ import annotations

from typing import Any

from collab.errors import Invalid
from collab.realtime import Ack, Actor, ChannelKind, Event, int_id
from collab.web import templates

from . import service
from .models import Room


def _fragment(name: str, **context: Any) -> str:
    return templates.get_template(name).render(**context)


class RoomChannel(ChannelKind):
    kind = "room"

    async def join(self, actor: Actor | None, id: str) -> None:
        await service.get_room(int_id(id, self.kind), actor)

    async def handle(self, actor: Actor | None, id: str, type: str, data: dict[str, Any]) -> Ack:
        if type != "thread.create":
            raise Invalid(f"room channels accept thread.create, not {type[:40]!r}")
        if actor is None:
            from collab.errors import Unauthenticated

            raise Unauthenticated("sign in to start a thread")
        thread = await service.create_thread(self.hub, actor, int_id(id, self.kind), data)
        return Ack(data={"thread_id": thread.id})

    def render(self, event: Event) -> str | None:
        if event.type == "thread.created":
            return _fragment("rooms/_thread_oob.html", thread=event.data, event=event)
        return None


class ThreadChannel(ChannelKind):
    kind = "thread"

    async def join(self, actor: Actor | None, id: str) -> None:
        await service.check_thread_readable(int_id(id, self.kind), actor)

    async def handle(self, actor: Actor | None, id: str, type: str, data: dict[str, Any]) -> Ack:
        thread_id = int_id(id, self.kind)
        if type == "post.create":
            return Ack(seq=await service.create_post(self.hub, actor, thread_id, data))
        if type == "post.edit":
            return Ack(seq=await service.edit_post(self.hub, actor, thread_id, data))
        if type == "post.delete":
            return Ack(seq=await service.delete_post(self.hub, actor, thread_id, data))
        if type == "post.flag":
            flag = await service.flag_post(actor, thread_id, data)
            return Ack(data={"flag_id": flag.id})
        if type == "thread.lock":
            return Ack(seq=await service.set_thread_flag(self.hub, actor, thread_id, data,
                                                         "locked"))
        if type == "thread.pin":
            return Ack(seq=await service.set_thread_flag(self.hub, actor, thread_id, data,
                                                         "pinned"))
        if type == "typing":
            if actor is None:
                from collab.errors import Unauthenticated

                raise Unauthenticated("sign in first")
            await self.hub.broadcast(Event(f"thread:{thread_id}", "typing", {},
                                           actor=actor.public()))
            return Ack()
        raise Invalid(f"thread channels accept no {type[:40]!r}")

    def render(self, event: Event) -> str | None:
        template = {
            "post.created": "rooms/_post_oob.html",
            "post.edited": "rooms/_post_oob.html",
            "post.deleted": "rooms/_post_oob.html",
            "thread.locked": "rooms/_thread_status_oob.html",
            "thread.pinned": "rooms/_thread_status_oob.html",
            "typing": "rooms/_typing_oob.html",
        }.get(event.type)
        if template is None:
            return None
        return _fragment(template, event=event, data=event.data, actor=event.actor or {})

    def render_presence(self, channel: str, members: list[dict[str, Any]]) -> str | None:
        return _fragment("rooms/_presence_oob.html", members=members)


__all__ = ["Room", "RoomChannel", "ThreadChannel"]
