"""`webinar:ID` (the live room) and `backstage:ID` (the host's queue) on the hub."""

from __future__ import annotations

from collab.errors import Forbidden, Unauthenticated
from collab.fields import bool_field, id_field, int_field, text_field
from collab.notifications import capped
from collab.realtime import Ack, Actor, Call, ChannelKind, handles

from . import live, moderation, service
from .service import Seat

# A crowd's presence list names this many and counts the rest.
ATTENDEES_SHOWN = 50

MAX_CHAT = 2000
MAX_QUESTION = 1000


def _seat(call: Call) -> Seat:
    seat = call.grant
    if not isinstance(seat, Seat):  # a grant from before a restart of this code: ask again
        raise Forbidden("join the webinar again")
    return seat


def speaker(call: Call) -> Seat:
    """A member who may speak in the room (the gates check mutes again in the write)."""
    seat = _seat(call)
    if seat.muted:
        raise Forbidden("you were muted in this webinar")
    return seat


def moderator(call: Call) -> Seat:
    seat = _seat(call)
    if not seat.moderates:
        raise Forbidden("only the host and moderators may do this")
    return seat


def host(call: Call) -> Seat:
    seat = _seat(call)
    if not seat.hosts:
        raise Forbidden("only the host may do this")
    return seat


class WebinarChannel(ChannelKind):
    kind = "webinar"
    presence_fragment = "_presence_oob.html"
    presence_view = {"presence_id": "attendees", "shown": ATTENDEES_SHOWN}
    fragments = {
        "chat.message": "webinars/_chat_oob.html",
        "chat.deleted": "webinars/_chat_oob.html",
        "member.muted": "webinars/_chat_oob.html",
        "chat.slow_mode": "webinars/_room_state_oob.html",
        "question.premoderation": "webinars/_room_state_oob.html",
        "question.asked": "webinars/_question_oob.html",
        "question.voted": "webinars/_question_oob.html",
        "question.answered": "webinars/_question_oob.html",
        "question.dismissed": "webinars/_question_oob.html",
        "poll.created": "webinars/_poll_oob.html",
        "poll.results": "webinars/_poll_oob.html",
        "poll.closed": "webinars/_poll_oob.html",
    }

    async def join(self, actor: Actor | None, id: int) -> Seat:
        return await service.room_seat(id, actor)

    def forget(self, id: int) -> None:
        service.forget(id)  # the visibility cached for anonymous joins

    @handles("chat.send")
    async def chat_send(self, call: Call) -> Ack:
        speaker(call)
        body = text_field(call.data, "body", MAX_CHAT)
        await capped(body)
        seq, message_id = await live.send_chat(self.hub, call.member, call.id, body)
        return Ack(seq=seq, data={"id": message_id})

    @handles("chat.delete")
    async def chat_delete(self, call: Call) -> Ack:
        moderator(call)
        message_id = id_field(call.data, "message_id")
        return Ack(seq=await moderation.delete_message(self.hub, call.member, call.id,
                                                       message_id))

    @handles("chat.slow_mode")
    async def chat_slow_mode(self, call: Call) -> Ack:
        moderator(call)
        return Ack(seq=await moderation.slow_mode(self.hub, call.member, call.id, call.data))

    @handles("question.ask")
    async def question_ask(self, call: Call) -> Ack:
        speaker(call)
        body = text_field(call.data, "body", MAX_QUESTION)
        await capped(body)
        premoderated = await service.premoderated(call.id)
        seq, question_id, state = await live.ask(self.hub, call.member, call.id, body,
                                                 premoderated)
        # A held question's event is on backstage:ID, not here: no seq of this channel.
        return Ack(seq=seq if state == "open" else None, data={"id": question_id, "state": state})

    @handles("question.upvote")
    async def question_upvote(self, call: Call) -> Ack:
        speaker(call)
        question_id = id_field(call.data, "question_id")
        return Ack(seq=await live.upvote(self.hub, call.member, call.id, question_id))

    @handles("question.answer")
    async def question_answer(self, call: Call) -> Ack:
        host(call)
        question_id = id_field(call.data, "question_id")
        return Ack(seq=await moderation.answer(self.hub, call.member, call.id, question_id))

    @handles("question.dismiss")
    async def question_dismiss(self, call: Call) -> Ack:
        moderator(call)
        question_id = id_field(call.data, "question_id")
        return Ack(seq=await moderation.dismiss(self.hub, call.member, call.id, question_id))

    @handles("question.approve")
    async def question_approve(self, call: Call) -> Ack:
        moderator(call)
        question_id = id_field(call.data, "question_id")
        return Ack(seq=await moderation.approve(self.hub, call.member, call.id, question_id))

    @handles("question.premoderation")
    async def question_premoderation(self, call: Call) -> Ack:
        moderator(call)
        enabled = bool_field(call.data, "enabled")
        return Ack(seq=await moderation.premoderation(self.hub, call.member, call.id, enabled))

    @handles("member.mute")
    async def member_mute(self, call: Call) -> Ack:
        moderator(call)
        user_id = id_field(call.data, "user_id")
        return Ack(seq=await moderation.mute(self.hub, call.member, call.id, user_id))

    @handles("poll.create")
    async def poll_create(self, call: Call) -> Ack:
        host(call)
        seq, poll_id = await moderation.create_poll(self.hub, call.member, call.id, call.data)
        return Ack(seq=seq, data={"id": poll_id})

    @handles("poll.vote")
    async def poll_vote(self, call: Call) -> Ack:
        speaker(call)
        poll_id = id_field(call.data, "poll_id")
        option = int_field(call.data, "option", minimum=0, maximum=live.MAX_OPTIONS - 1)
        return Ack(seq=await live.poll_vote(self.hub, call.member, call.id, poll_id, option))

    @handles("poll.close")
    async def poll_close(self, call: Call) -> Ack:
        host(call)
        poll_id = id_field(call.data, "poll_id")
        return Ack(seq=await live.close_poll(self.hub, call.member, call.id, poll_id))


class BackstageChannel(ChannelKind):
    """The host's and moderators' side of a webinar: questions waiting for approval."""

    kind = "backstage"
    presence = False
    fragments = {
        "question.submitted": "webinars/_pending_oob.html",
        "question.approved": "webinars/_pending_oob.html",
        "question.dismissed": "webinars/_pending_oob.html",
    }

    async def join(self, actor: Actor | None, id: int) -> Seat:
        if actor is None:
            raise Unauthenticated("sign in as the host or a moderator")
        seat = await service.room_seat(id, actor)
        if not seat.moderates:
            raise Forbidden("only the host and moderators see the question queue")
        return seat

    # The console's queue sends over this socket: the same actions as on webinar:ID.
    @handles("question.approve")
    async def question_approve(self, call: Call) -> Ack:
        moderator(call)
        question_id = id_field(call.data, "question_id")
        await moderation.approve(self.hub, call.member, call.id, question_id)
        return Ack(data={"id": question_id})

    @handles("question.dismiss")
    async def question_dismiss(self, call: Call) -> Ack:
        moderator(call)
        question_id = id_field(call.data, "question_id")
        await moderation.dismiss(self.hub, call.member, call.id, question_id)
        return Ack(data={"id": question_id})
