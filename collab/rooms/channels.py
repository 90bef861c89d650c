"""`room:ID` (new threads) and `thread:ID` (posts) on the hub: joins, sends, fragments."""

from __future__ import annotations

from typing import Any

from collab.realtime import Ack, Actor, Call, ChannelKind, handles

from . import service
from .activity import thread_bumped


class RoomChannel(ChannelKind):
    kind = "room"
    presence = False  # nobody shows who is looking at a room's thread list
    fragments = {"thread.created": "rooms/_thread_oob.html",
                 "thread.bumped": "rooms/_thread_activity_oob.html"}

    async def join(self, actor: Actor | None, id: int) -> str:
        return (await service.get_room(id, actor)).visibility

    def fragment_context(self, event: Any) -> dict[str, Any]:
        return {"thread": event.data}

    @handles("thread.create")
    async def create_thread(self, call: Call) -> Ack:
        thread, seq = await service.create_thread_at(self.hub, call.member, call.id, call.data)
        return Ack(seq=seq, data={"id": thread.id, "thread_id": thread.id})


class ThreadChannel(ChannelKind):
    kind = "thread"
    presence_fragment = "_presence_oob.html"
    presence_view = {"presence_id": "presence"}
    fragments = {
        "post.created": "rooms/_post_oob.html",
        "post.edited": "rooms/_post_oob.html",
        "post.deleted": "rooms/_post_oob.html",
        "thread.locked": "rooms/_thread_status_oob.html",
        "thread.pinned": "rooms/_thread_status_oob.html",
        "typing": "rooms/_typing_oob.html",
    }

    async def join(self, actor: Actor | None, id: int) -> None:
        await service.check_thread_readable(id, actor)

    @handles("post.create")
    async def create_post(self, call: Call) -> Ack:
        seq, post_id = await service.create_post(self.hub, call.member, call.id, call.data)
        thread_bumped(self.hub, call.id)
        return Ack(seq=seq, data={"id": post_id})

    @handles("post.edit")
    async def edit_post(self, call: Call) -> Ack:
        return Ack(seq=await service.edit_post(self.hub, call.member, call.id, call.data))

    @handles("post.delete")
    async def delete_post(self, call: Call) -> Ack:
        return Ack(seq=await service.delete_post(self.hub, call.member, call.id, call.data))

    @handles("post.flag")
    async def flag_post(self, call: Call) -> Ack:
        flag = await service.flag_post(call.member, call.id, call.data)
        return Ack(data={"id": flag.id, "flag_id": flag.id})

    @handles("thread.lock")
    async def lock(self, call: Call) -> Ack:
        return Ack(seq=await service.set_thread_flag(self.hub, call.member, call.id, call.data,
                                                     "locked"))

    @handles("thread.pin")
    async def pin(self, call: Call) -> Ack:
        return Ack(seq=await service.set_thread_flag(self.hub, call.member, call.id, call.data,
                                                     "pinned"))

    @handles("typing")
    async def typing(self, call: Call) -> Ack:
        await self.hub.broadcast(call.channel, "typing", {}, actor=call.member, skip=call.origin)
        return Ack()
