"""The host's and moderators' actions in a live room: each one transaction with its events.

Not hot paths (a host clicks a few times a minute), so they use `hub.transaction()` and may
emit on two channels at once: `webinar:ID` (everyone) and `backstage:ID` (host and moderators,
who see questions waiting for approval there).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from collab.accounts.models import User
from collab.accounts.service import audit
from collab.clock import utcnow
from collab.errors import Conflict, Forbidden, Invalid, NotFound
from collab.fields import int_field, string_list, text_field
from collab.realtime import Actor, Hub
from collab.web import iso, person

from . import service
from .live import MAX_OPTIONS, m, p, pl, q, question_dict, w
from .models import Poll

MAX_SLOW_MODE = 3600
MAX_POLL_QUESTION = 300
MAX_OPTION = 100

_users = User.ormar_config.table


async def _question(conn: Any, webinar_id: int, question_id: int) -> Any:
    row = (await conn.execute(
        sa.select(q, _users.c.username, _users.c.display_name)
        .select_from(q.join(_users, _users.c.id == q.c.author_id))
        .where(q.c.id == question_id, q.c.webinar_id == webinar_id))).first()
    if row is None or row.state == "dismissed":
        raise NotFound(f"no question {question_id} in this webinar")
    return row


def _channels(webinar_id: int) -> tuple[str, str]:
    return f"webinar:{webinar_id}", f"backstage:{webinar_id}"


async def approve(hub: Hub, actor: Actor, webinar_id: int, question_id: int) -> int:
    """A pending question goes out to everyone as `question.asked`."""
    room, backstage = _channels(webinar_id)
    async with hub.transaction() as tx:
        row = await _question(tx.conn, webinar_id, question_id)
        if row.state != "pending":
            raise Conflict("this question is not waiting for approval")
        await tx.conn.execute(sa.update(q).where(q.c.id == question_id).values(state="open"))
        data = question_dict(row.id, webinar_id, row.body, person(row, row.author_id), "open",
                             row.votes, row.created_at)
        event = await tx.emit(room, "question.asked", data, actor, subject=f"question:{row.id}")
        await tx.emit(backstage, "question.approved", {"question_id": row.id, "id": row.id},
                      actor, subject=f"question:{row.id}")
        tx.reply(event.seq, {"id": row.id})
    return event.seq


async def dismiss(hub: Hub, actor: Actor, webinar_id: int, question_id: int) -> int:
    """Hide a question (pending, open or answered); replay no longer shows its text."""
    room, backstage = _channels(webinar_id)
    async with hub.transaction() as tx:
        row = await _question(tx.conn, webinar_id, question_id)
        await tx.conn.execute(sa.update(q).where(q.c.id == question_id)
                              .values(state="dismissed"))
        subject = f"question:{row.id}"
        patch = {"body": "", "state": "dismissed"}
        data = {"question_id": row.id, "id": row.id, "state": "dismissed"}
        await tx.redact(backstage, subject, patch)
        if row.state == "pending":
            # Never shown to the room: only the host's queue hears of it.
            event = await tx.emit(backstage, "question.dismissed", data, actor, subject=subject)
        else:
            await tx.redact(room, subject, patch)
            event = await tx.emit(room, "question.dismissed", data, actor, subject=subject)
            await tx.emit(backstage, "question.dismissed", data, actor, subject=subject)
        if row.author_id != actor.id:
            await audit(actor, "question.dismiss", subject, f"webinar:{webinar_id}")
        tx.reply(event.seq, {"id": row.id})
    return event.seq


async def answer(hub: Hub, actor: Actor, webinar_id: int, question_id: int) -> int:
    room, _ = _channels(webinar_id)
    async with hub.transaction() as tx:
        row = await _question(tx.conn, webinar_id, question_id)
        if row.state == "pending":
            raise Conflict("approve this question before answering it")
        if row.state == "answered":
            raise Conflict("this question was answered already")
        now = utcnow()
        await tx.conn.execute(sa.update(q).where(q.c.id == question_id)
                              .values(state="answered", answered_at=now))
        event = await tx.emit(room, "question.answered",
                              {"question_id": row.id, "id": row.id, "state": "answered",
                               "answered_at": iso(now)}, actor, subject=f"question:{row.id}")
    return event.seq


async def delete_message(hub: Hub, actor: Actor, webinar_id: int, message_id: int) -> int:
    room, _ = _channels(webinar_id)
    async with hub.transaction() as tx:
        row = (await tx.conn.execute(sa.select(m.c.id, m.c.author_id, m.c.deleted).where(
            m.c.id == message_id, m.c.webinar_id == webinar_id))).first()
        if row is None or row.deleted:
            raise NotFound(f"no message {message_id} in this webinar")
        await tx.conn.execute(sa.update(m).where(m.c.id == message_id).values(deleted=True))
        subject = f"message:{message_id}"
        # Replay never brings a deleted message's text back.
        await tx.redact(room, subject, {"body": "", "deleted": True})
        event = await tx.emit(room, "chat.deleted", {"message_id": message_id, "id": message_id},
                              actor, subject=subject)
        if row.author_id != actor.id:
            await audit(actor, "chat.delete", subject, f"webinar:{webinar_id}")
    return event.seq


async def mute(hub: Hub, actor: Actor, webinar_id: int, user_id: int) -> int:
    """Mute a member until the webinar ends: their sends are `forbidden` from now on, in every
    process (the gates read the row; `access_changed` refreshes open sockets' grants)."""
    room, _ = _channels(webinar_id)
    if user_id == actor.id:
        raise Invalid("you cannot mute yourself", extra={"field": "user_id"})
    target = await User.objects.get_or_none(id=user_id)
    webinar = await service.get_webinar(webinar_id, actor)
    if target is None:
        raise NotFound(f"no member {user_id}")
    if target.id == webinar.host.id or target.has_role("moderator", "admin"):
        raise Forbidden("the host and moderators cannot be muted")
    async with hub.transaction() as tx:
        row = (await tx.conn.execute(sa.select(p.c.id, p.c.muted).where(
            p.c.webinar_id == webinar_id, p.c.user_id == user_id))).first()
        if row is not None and row.muted:
            raise Conflict("this member is muted already")
        if row is None:
            await tx.conn.execute(sa.insert(p).values(
                webinar_id=webinar_id, user_id=user_id, muted=True, muted_by_id=actor.id,
                last_chat_ms=0))
        else:
            await tx.conn.execute(sa.update(p).where(p.c.id == row.id)
                                  .values(muted=True, muted_by_id=actor.id))
        await audit(actor, "member.mute", f"user:{user_id}", f"webinar:{webinar_id}")
        event = await tx.emit(room, "member.muted",
                              {"user_id": user_id, "user": person(target)}, actor)
    await hub.access_changed(user_id)
    return event.seq


async def slow_mode(hub: Hub, actor: Actor, webinar_id: int, data: dict[str, Any]) -> int:
    seconds = int_field(data, "seconds", minimum=0, maximum=MAX_SLOW_MODE)
    room, _ = _channels(webinar_id)
    async with hub.transaction() as tx:
        await tx.conn.execute(sa.update(w).where(w.c.id == webinar_id)
                              .values(slow_mode_seconds=seconds))
        event = await tx.emit(room, "chat.slow_mode", {"seconds": seconds}, actor)
    return event.seq


async def premoderation(hub: Hub, actor: Actor, webinar_id: int, enabled: bool) -> int:
    room, _ = _channels(webinar_id)
    async with hub.transaction() as tx:
        await tx.conn.execute(sa.update(w).where(w.c.id == webinar_id)
                              .values(premoderation=enabled))
        event = await tx.emit(room, "question.premoderation", {"enabled": enabled}, actor)
    service.forget(webinar_id)
    return event.seq


def poll_dict(poll: Poll | Any, counts: list[int] | None = None) -> dict[str, Any]:
    options = json.loads(poll.options)
    return {"id": poll.id, "webinar_id": poll.webinar_id, "question": poll.question,
            "options": options, "counts": counts if counts is not None else [0] * len(options),
            "closed": bool(poll.closed), "created_at": iso(poll.created_at)}


def poll_fields(data: dict[str, Any]) -> tuple[str, list[str]]:
    question = text_field(data, "question", MAX_POLL_QUESTION)
    raw = data.get("options")
    if isinstance(raw, list):
        # A form has six option fields; the empty ones are not options.
        raw = [o for o in raw if not (isinstance(o, str) and not o.strip())]
        data = {**data, "options": raw}
    if isinstance(raw, list) and not 2 <= len(raw) <= MAX_OPTIONS:
        raise Invalid(f"a poll has 2 to {MAX_OPTIONS} options, not {len(raw)}",
                      extra={"field": "options"})
    options = string_list(data, "options", max_items=MAX_OPTIONS, max_length=MAX_OPTION,
                          required=True)
    if len(options) != len(raw or []):
        raise Invalid("the options must differ from each other", extra={"field": "options"})
    return question, options


async def create_poll(hub: Hub, actor: Actor, webinar_id: int, data: dict[str, Any]
                      ) -> tuple[int, int]:
    question, options = poll_fields(data)
    room, _ = _channels(webinar_id)
    async with hub.transaction() as tx:
        ends = (await tx.conn.execute(sa.select(w.c.ends_at).where(w.c.id == webinar_id))
                ).scalar()
        if ends is None:
            raise NotFound(f"no webinar {webinar_id}")
        if utcnow() >= ends:
            raise Forbidden("this webinar has ended: its room is a record now")
        now = utcnow()
        poll_id = (await tx.conn.execute(sa.insert(pl).values(
            webinar_id=webinar_id, question=question, options=json.dumps(options),
            option_count=len(options), closed=False, created_at=now).returning(pl.c.id))
        ).scalar_one()
        data_out = {"id": poll_id, "webinar_id": webinar_id, "question": question,
                    "options": options, "counts": [0] * len(options), "closed": False,
                    "created_at": iso(now)}
        event = await tx.emit(room, "poll.created", data_out, actor, subject=f"poll:{poll_id}")
        tx.reply(event.seq, {"id": poll_id})
    return event.seq, poll_id
