"""The live room's hot paths: chat, questions and votes, through the hub's door.

Each send is one `Change` whose first check is a *gate*: one statement that writes or returns a
row only when the send is allowed (the webinar has not ended, the sender is not muted, slow
mode lets them speak, the question is open, the vote is new). Mutes and slow mode are read in
the same commit as the message, so every process agrees on them whatever its grants say. A
gate that lets nothing through raises `Shut`; only then, off the hot path, does `explain` read
why and answer with the right error (`forbidden`, `rate_limited`, `not_found`, `conflict`).

Gates that upsert are dialect-specific statements (`INSERT … ON CONFLICT`), so each is
declared for SQLite and for PostgreSQL and picked per call.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from collab import db
from collab.clock import utcnow
from collab.errors import CollabError, Conflict, Forbidden, NotFound, RateLimited
from collab.realtime import Actor, Change, Hub, Step, Stmt
from collab.web import iso, person

from .models import ChatMessage, Participant, Poll, PollVote, Question, QuestionVote, Webinar

w = Webinar.ormar_config.table
p = Participant.ormar_config.table
m = ChatMessage.ormar_config.table
q = Question.ormar_config.table
qv = QuestionVote.ormar_config.table
pl = Poll.ormar_config.table
pv = PollVote.ormar_config.table

MAX_OPTIONS = 6


class Shut(CollabError):
    """A gate let nothing through; `explain` says why."""

    code, status = "conflict", 409


SHUT = Shut("the room refused this send")


def _int(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=sa.BigInteger)


def _now() -> sa.BindParameter[Any]:
    return sa.bindparam("now", type_=sa.DateTime)


def _not_muted() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(p.c.webinar_id == _int("webinar_id"), p.c.user_id == _int("user_id"),
                              p.c.muted == sa.true())


class Dual:
    """A statement declared for SQLite and for PostgreSQL (upserts differ)."""

    def __init__(self, build: Callable[[Any], sa.Executable]) -> None:
        self.sqlite = Stmt(build(sqlite.insert))
        self.postgres = Stmt(build(postgresql.insert))

    def get(self) -> Stmt:
        return self.sqlite if db.is_sqlite() else self.postgres


# -- chat ------------------------------------------------------------------------------------------
def _chat_gate(insert: Any) -> sa.Executable:
    """Insert or update the sender's participant row, only if not muted and out of slow mode."""
    source = sa.select(w.c.id, _int("user_id"), _int("now_ms"), sa.false()).where(
        w.c.id == _int("webinar_id"), w.c.ends_at > _now())
    stmt = insert(p).from_select(["webinar_id", "user_id", "last_chat_ms", "muted"], source)
    # By the bound id, not correlated: inside ON CONFLICT SQLAlchemy does not correlate, and
    # a subquery `FROM webinars, webinar_participants` read the first webinar's slow mode.
    slow_ms = (sa.select(w.c.slow_mode_seconds * sa.literal_column("1000"))
               .where(w.c.id == _int("webinar_id")).scalar_subquery())
    stmt = stmt.on_conflict_do_update(
        index_elements=["webinar_id", "user_id"],
        set_={"last_chat_ms": stmt.excluded.last_chat_ms},
        where=sa.and_(p.c.muted == sa.false(),
                      p.c.last_chat_ms + sa.func.coalesce(slow_ms, sa.literal_column("0"))
                      <= stmt.excluded.last_chat_ms))
    return stmt.returning(p.c.id)


CHAT_GATE = Dual(_chat_gate)
INSERT_MESSAGE = Stmt(sa.insert(m).values(
    webinar_id=_int("webinar_id"), author_id=_int("user_id"), body=sa.bindparam("body"),
    seq=_int("seq"), created_at=_now(), deleted=sa.false()).returning(m.c.id))


def message_dict(id: int, webinar_id: int, body: str, author: dict[str, Any],
                 created: dt.datetime, deleted: bool = False) -> dict[str, Any]:
    return {"id": id, "webinar_id": webinar_id, "body": "" if deleted else body,
            "author": author, "created_at": iso(created), "deleted": deleted}


async def send_chat(hub: Hub, actor: Actor, webinar_id: int, body: str) -> tuple[int, int]:
    """Store a chat message and its `chat.message` event; returns (seq, message id)."""
    now = utcnow()
    author = person(actor)
    params = {"webinar_id": webinar_id, "user_id": actor.id, "now": now, "body": body,
              "now_ms": int(time.time() * 1000)}
    try:
        written = await hub.write(Change(
            channel=f"webinar:{webinar_id}", type="chat.message",
            checks=[Step(CHAT_GATE.get(), params, refuse=SHUT)],
            writes=[Step(INSERT_MESSAGE, params, name="message")],
            data=lambda r: message_dict(r["message"]["id"], webinar_id, body, author, now),
            subject=lambda r: f"message:{r['message']['id']}",
            ack=lambda r: {"id": r["message"]["id"]},
            actor=actor.public(),
        ))
    except Shut:
        raise await explain(webinar_id, actor.id, chat=True) from None
    return written.seq, written.results["message"]["id"]


# -- questions -------------------------------------------------------------------------------------
def _ask_gate() -> Stmt:
    return Stmt(sa.select(w.c.id).where(
        w.c.id == _int("webinar_id"), w.c.ends_at > _now(),
        w.c.premoderation == sa.bindparam("premoderation", type_=sa.Boolean), _not_muted()))


ASK_GATE = _ask_gate()
INSERT_QUESTION = Stmt(sa.insert(q).values(
    webinar_id=_int("webinar_id"), author_id=_int("user_id"), body=sa.bindparam("body"),
    state=sa.bindparam("state"), votes=0, created_at=_now()).returning(q.c.id))


def question_dict(id: int, webinar_id: int, body: str, author: dict[str, Any], state: str,
                  votes: int, created: dt.datetime, answered: dt.datetime | None = None
                  ) -> dict[str, Any]:
    return {"id": id, "webinar_id": webinar_id, "body": "" if state == "dismissed" else body,
            "author": author, "state": state, "votes": votes, "created_at": iso(created),
            "answered_at": iso(answered)}


async def ask(hub: Hub, actor: Actor, webinar_id: int, body: str, premoderation: bool,
              retried: bool = False) -> tuple[int, int, str]:
    """Store a question: fanned out as `question.asked`, or with premoderation on, held for the
    host on `backstage:ID` as `question.submitted`. Returns (seq, question id, state)."""
    now = utcnow()
    author = person(actor)
    state = "pending" if premoderation else "open"
    channel = f"backstage:{webinar_id}" if premoderation else f"webinar:{webinar_id}"
    params = {"webinar_id": webinar_id, "user_id": actor.id, "now": now, "body": body,
              "state": state, "premoderation": premoderation}
    try:
        written = await hub.write(Change(
            channel=channel, type="question.submitted" if premoderation else "question.asked",
            checks=[Step(ASK_GATE, params, refuse=SHUT)],
            writes=[Step(INSERT_QUESTION, params, name="question")],
            data=lambda r: question_dict(r["question"]["id"], webinar_id, body, author, state,
                                         0, now),
            subject=lambda r: f"question:{r['question']['id']}",
            ack=lambda r: {"id": r["question"]["id"], "state": state},
            actor=actor.public(),
        ))
    except Shut:
        error = await explain(webinar_id, actor.id)
        if isinstance(error, _Premoderation) and not retried:
            # The host switched premoderation meanwhile: the gate, not the cached grant, is
            # what decides where a question goes.
            return await ask(hub, actor, webinar_id, body, error.on, retried=True)
        raise error from None
    return written.seq, written.results["question"]["id"], state


def _vote_gate(insert: Any) -> sa.Executable:
    source = (sa.select(q.c.id, _int("user_id"), _now())
              .select_from(q.join(w, w.c.id == q.c.webinar_id))
              .where(q.c.id == _int("question_id"), q.c.webinar_id == _int("webinar_id"),
                     q.c.state == "open", w.c.ends_at > _now(), _not_muted()))
    stmt = insert(qv).from_select(["question_id", "user_id", "created_at"], source)
    return stmt.on_conflict_do_nothing(index_elements=["question_id", "user_id"]) \
        .returning(qv.c.id)


VOTE_GATE = Dual(_vote_gate)
COUNT_VOTE = Stmt(sa.update(q).where(q.c.id == _int("question_id"))
                  .values(votes=q.c.votes + 1).returning(q.c.votes))


async def upvote(hub: Hub, actor: Actor, webinar_id: int, question_id: int) -> int:
    """One upvote per member and question; a second is refused with `conflict` and not
    counted. Returns the seq of `question.voted`."""
    params = {"webinar_id": webinar_id, "user_id": actor.id, "question_id": question_id,
              "now": utcnow()}
    try:
        written = await hub.write(Change(
            channel=f"webinar:{webinar_id}", type="question.voted",
            checks=[Step(VOTE_GATE.get(), params, refuse=SHUT)],
            writes=[Step(COUNT_VOTE, params, name="question")],
            data=lambda r: {"question_id": question_id, "votes": r["question"]["votes"]},
            actor=actor.public(),
        ))
    except Shut:
        raise await explain(webinar_id, actor.id, question_id=question_id) from None
    return written.seq


# -- polls -----------------------------------------------------------------------------------------
def _poll_vote_gate(insert: Any) -> sa.Executable:
    source = (sa.select(pl.c.id, _int("user_id"), _int("option"), _now())
              .select_from(pl.join(w, w.c.id == pl.c.webinar_id))
              .where(pl.c.id == _int("poll_id"), pl.c.webinar_id == _int("webinar_id"),
                     pl.c.closed == sa.false(), pl.c.option_count > _int("option"),
                     w.c.ends_at > _now(), _not_muted()))
    stmt = insert(pv).from_select(["poll_id", "user_id", "option", "created_at"], source)
    stmt = stmt.on_conflict_do_update(
        index_elements=["poll_id", "user_id"],
        set_={"option": stmt.excluded.option, "created_at": stmt.excluded.created_at})
    return stmt.returning(pv.c.id)


POLL_VOTE_GATE = Dual(_poll_vote_gate)
POLL_COUNTS = Stmt(
    sa.select(pl.c.option_count, pl.c.options,
              *[sa.func.coalesce(sa.func.sum(sa.case((pv.c.option == i, 1), else_=0)), 0)
                .label(f"c{i}") for i in range(MAX_OPTIONS)])
    .select_from(pl.outerjoin(pv, pv.c.poll_id == pl.c.id))
    .where(pl.c.id == _int("poll_id"))
    .group_by(pl.c.id, pl.c.option_count, pl.c.options))
CLOSE_POLL = Stmt(sa.update(pl).where(pl.c.id == _int("poll_id"),
                                      pl.c.webinar_id == _int("webinar_id"),
                                      pl.c.closed == sa.false())
                  .values(closed=sa.true(), closed_at=_now()).returning(pl.c.id))


def counts_of(row: Any) -> list[int]:
    return [int(row[f"c{i}"] or 0) for i in range(int(row["option_count"]))]


def results(poll_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """`poll.results` / `poll.closed` data: counts per option, with the options' text."""
    return {"poll_id": poll_id, "counts": counts_of(row), "options": json.loads(row["options"])}


async def poll_vote(hub: Hub, actor: Actor, webinar_id: int, poll_id: int, option: int) -> int:
    """One vote per member and poll; a second one moves it. Returns the seq of `poll.results`."""
    params = {"webinar_id": webinar_id, "user_id": actor.id, "poll_id": poll_id,
              "option": option, "now": utcnow()}
    try:
        written = await hub.write(Change(
            channel=f"webinar:{webinar_id}", type="poll.results",
            checks=[Step(POLL_VOTE_GATE.get(), params, refuse=SHUT)],
            writes=[Step(POLL_COUNTS, params, name="counts")],
            data=lambda r: results(poll_id, r["counts"]),
            actor=actor.public(),
        ))
    except Shut:
        raise await explain(webinar_id, actor.id, poll_id=poll_id, option=option) from None
    return written.seq


async def close_poll(hub: Hub, actor: Actor, webinar_id: int, poll_id: int) -> int:
    """Close a poll; `poll.closed` carries its final counts."""
    params = {"webinar_id": webinar_id, "poll_id": poll_id, "now": utcnow()}
    try:
        written = await hub.write(Change(
            channel=f"webinar:{webinar_id}", type="poll.closed",
            checks=[Step(CLOSE_POLL, params, refuse=SHUT)],
            writes=[Step(POLL_COUNTS, params, name="counts")],
            data=lambda r: results(poll_id, r["counts"]),
            actor=actor.public(),
        ))
    except Shut:
        poll = await Poll.objects.get_or_none(id=poll_id, webinar_id=webinar_id)
        if poll is None:
            raise NotFound(f"no poll {poll_id} in this webinar") from None
        raise Conflict("this poll is closed already") from None
    return written.seq


# -- why a gate stayed shut ----------------------------------------------------------------------
class _Premoderation(Conflict):
    def __init__(self, on: bool) -> None:
        super().__init__("premoderation changed")
        self.on = on


async def explain(webinar_id: int, user_id: int, *, chat: bool = False,
                  question_id: int | None = None, poll_id: int | None = None,
                  option: int | None = None) -> CollabError:
    """Why a gate let a send through to nothing: read once, after the refusal."""
    async with db.database.connection() as conn:
        room = (await conn.execute(
            sa.select(w.c.ends_at, w.c.slow_mode_seconds, w.c.premoderation)
            .where(w.c.id == webinar_id))).first()
        if room is None:
            return NotFound(f"no webinar {webinar_id}")
        seat = (await conn.execute(sa.select(p.c.muted, p.c.last_chat_ms).where(
            p.c.webinar_id == webinar_id, p.c.user_id == user_id))).first()
        if utcnow() >= room.ends_at:
            return Forbidden("this webinar has ended: its room is a record now")
        if seat is not None and seat.muted:
            return Forbidden("you were muted in this webinar")
        if chat:
            wait_ms = (seat.last_chat_ms if seat else 0) + room.slow_mode_seconds * 1000 \
                - int(time.time() * 1000)
            if wait_ms > 0:
                wait = max(1, -(-wait_ms // 1000))
                return RateLimited(f"slow mode: one message every {room.slow_mode_seconds} s; "
                                   f"wait {wait} s", retry_after=wait)
            return Conflict("the message crossed another; send it again")
        if question_id is not None:
            return await _explain_vote(conn, webinar_id, user_id, question_id)
        if poll_id is not None:
            found = (await conn.execute(sa.select(pl.c.closed, pl.c.option_count).where(
                pl.c.id == poll_id, pl.c.webinar_id == webinar_id))).first()
            if found is None:
                return NotFound(f"no poll {poll_id} in this webinar")
            if found.closed:
                return Conflict("this poll is closed")
            if option is not None and option >= found.option_count:
                return NotFound(f"this poll has no option {option}; options are numbered "
                                f"0 to {found.option_count - 1}")
            return Conflict("the vote crossed another; send it again")
        return _Premoderation(bool(room.premoderation))


async def _explain_vote(conn: Any, webinar_id: int, user_id: int, question_id: int
                        ) -> CollabError:
    found = (await conn.execute(sa.select(q.c.state).where(
        q.c.id == question_id, q.c.webinar_id == webinar_id))).first()
    if found is None or found.state in ("pending", "dismissed"):
        return NotFound(f"no question {question_id} in this webinar")
    if found.state == "answered":
        return Conflict("this question was answered: it takes no more votes")
    again = (await conn.execute(sa.select(qv.c.id).where(
        qv.c.question_id == question_id, qv.c.user_id == user_id))).first()
    if again is not None:
        return Conflict("you have upvoted this question already; a vote counts once")
    return Conflict("the vote crossed another; send it again")
