"""The door for events on SQLite and PostgreSQL: groups, refusals, one bad row, send keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from support.hubs import running_hub

from collab import db
from collab.errors import Conflict, Forbidden, NotFound
from collab.realtime import Also, Change, Hub, Redaction, Step, Stmt, store
from collab.realtime.door import SEND_KEY, KeyedSend, Repeated

pytestmark = pytest.mark.anyio

_md = sa.MetaData()
notes = sa.Table("door_notes", _md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("text", sa.String(40), unique=True), sa.Column("seq", sa.Integer))
gates = sa.Table("door_gates", _md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("open", sa.Boolean), sa.Column("count", sa.Integer))

PASS_GATE = Stmt(sa.update(gates).where(gates.c.id == sa.bindparam("gate"),
                                        gates.c.open == sa.true())
                 .values(count=gates.c.count + 1))
ADD_NOTE = Stmt(sa.insert(notes).values(text=sa.bindparam("text"), seq=sa.bindparam("seq"))
                .returning(notes.c.id))
CLOSED = Forbidden("the gate is closed")
NO_ROW = Stmt(sa.select(gates.c.id).where(gates.c.id == 0))
# A check that always returns one row (NULL first when refused) and takes no seq of its own.
COUNT_AT_OPEN_GATE = Stmt(sa.select(
    sa.select(gates.c.count).where(gates.c.id == sa.bindparam("gate"), gates.c.open)
    .scalar_subquery().label("count"),
    sa.select(gates.c.open).where(gates.c.id == sa.bindparam("gate"))
    .scalar_subquery().label("is_open")), one_row=True)
LOCK_GATE = Stmt(sa.select(gates.c.id).where(gates.c.id == sa.bindparam("lock_gate"))
                 .with_for_update(key_share=True))
# A lock whose statement fails when it runs (abs() of the smallest 64-bit integer overflows on
# either database): the database refuses it, not a missing row.
FAILING_LOCK = Stmt(sa.select(gates.c.id)
                    .where(gates.c.id == sa.func.abs(sa.bindparam("big", type_=sa.BigInteger)))
                    .with_for_update(key_share=True))


async def _gates(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_md.create_all)
        await conn.execute(gates.insert(), [{"id": 1, "open": True, "count": 0},
                                            {"id": 2, "open": False, "count": 0}])
    await engine.dispose()


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    async with running_hub(database_url, "door", prepare=_gates) as started:
        yield started


def note(text: str, gate: int = 1) -> Change:
    params = {"gate": gate, "text": text}
    return Change(channel="door:1", type="note.added",
                  checks=[Step(PASS_GATE, params, refuse=CLOSED)],
                  writes=[Step(ADD_NOTE, params, name="note")],
                  data=lambda r: {"id": r["note"]["id"], "text": text, "seq": r["seq"]},
                  subject=lambda r: f"note:{r['note']['id']}",
                  ack=lambda r: {"id": r["note"]["id"]})


async def test_a_group_commits_in_order_and_one_bad_row_fails_only_its_own_change(
        hub: Hub) -> None:
    texts = [f"n{i}" for i in range(30)]
    texts[7] = "n3"  # collides with an earlier row: the unique index refuses it
    results = await asyncio.gather(*(hub.write(note(t)) for t in texts),
                                   return_exceptions=True)
    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [7]
    assert isinstance(results[7], Conflict)
    seqs = [r.seq for r in results if not isinstance(r, BaseException)]
    assert seqs == list(range(1, 30)), "every other change got the next seq, in order"
    events = await store.read("door:1", 0)
    assert [e.seq for e in events] == list(range(1, 30))
    assert [e.data["text"] for e in events] == [t for i, t in enumerate(texts) if i != 7]
    assert all(e.data["seq"] == e.seq for e in events)


async def test_a_refused_check_writes_nothing_and_its_neighbours_go_on(hub: Hub) -> None:
    changes = [note("a"), note("b", gate=2), note("c")]
    results = await asyncio.gather(*(hub.write(c) for c in changes), return_exceptions=True)
    assert results[1] is CLOSED
    assert [r.seq for r in (results[0], results[2])] == [1, 2]
    async with db.database.connection() as conn:
        texts = (await conn.execute(sa.select(notes.c.text).order_by(notes.c.id))).scalars().all()
        count = (await conn.execute(sa.select(gates.c.count).where(gates.c.id == 2))).scalar()
    assert texts == ["a", "c"] and count == 0


async def test_the_same_send_key_twice_at_once_is_done_once(hub: Hub) -> None:
    async def keyed(text: str) -> object:
        token = SEND_KEY.set(KeyedSend(42, "same-key"))
        try:
            return await hub.write(note(text))
        except Repeated as repeated:
            return repeated
        finally:
            SEND_KEY.reset(token)

    results = await asyncio.gather(keyed("k1"), keyed("k2"))
    written = [r for r in results if not isinstance(r, Repeated)]
    repeated = [r for r in results if isinstance(r, Repeated)]
    assert len(written) == 1 and len(repeated) == 1
    assert repeated[0].ack == {"seq": written[0].seq, "data": {"id": written[0].ack["id"]}}
    assert [e.seq for e in await store.read("door:1", 0)] == [1]


def _why_not(row: dict[str, object] | None) -> Forbidden | NotFound:
    if row is not None and row["is_open"] is not None:
        return Forbidden(f"gate closed (open={bool(row['is_open'])})")
    return NotFound("no such gate")


def peek(gate: int, lock_gate: int = 1) -> Change:
    return Change(channel="door:1", type="gate.seen",
                  checks=[Step(COUNT_AT_OPEN_GATE, {"gate": gate}, name="gate",
                               refuse=_why_not)],
                  lock=Step(LOCK_GATE, {"lock_gate": lock_gate},
                            refuse=NotFound("the lock's row is gone")),
                  data=lambda r: {"gate": gate, "count": r["gate"]["count"], "seq": r["seq"]})


async def test_checks_without_writes_take_seqs_in_order_and_say_why_they_were_refused(
        hub: Hub) -> None:
    gates_seen = [1, 1, 2, 1, 99, 1, 1]
    locks = [1, 1, 1, 1, 1, 98, 1]  # the sixth holds a lock whose row is not there
    results = await asyncio.gather(*(hub.write(peek(g, lock)) for g, lock in
                                     zip(gates_seen, locks, strict=True)),
                                   return_exceptions=True)
    assert isinstance(results[2], Forbidden) and "open=False" in results[2].message
    assert isinstance(results[4], NotFound) and results[4].message == "no such gate"
    assert isinstance(results[5], NotFound) and results[5].message == "the lock's row is gone"
    written = [r for r in results if not isinstance(r, BaseException)]
    assert [r.seq for r in written] == [1, 2, 3, 4], "the refused ones took no seq"
    events = await store.read("door:1", 0)
    assert [(e.seq, e.data["seq"], e.data["gate"]) for e in events] == [
        (1, 1, 1), (2, 2, 1), (3, 3, 1), (4, 4, 1)]
    # Alone (a group of one), the same check answers the same.
    assert (await hub.write(peek(1))).seq == 5
    with pytest.raises(Forbidden):
        await hub.write(peek(2))
    # A group whose changes all hold one lock (taken as its transaction begins): a lock whose
    # row is not there refuses them all, and a lock whose row is there lets them through.
    for lock, expected in ((97, None), (1, [6, 7, 8])):
        group = await asyncio.gather(*(hub.write(peek(1, lock)) for _ in range(3)),
                                     return_exceptions=True)
        if expected is None:
            assert all(isinstance(r, NotFound) and r.message == "the lock's row is gone"
                       for r in group), group
        else:
            assert [r.seq for r in group] == expected  # type: ignore[union-attr]


async def test_a_lock_the_database_refuses_fails_its_group_and_spoils_no_connection(
        hub: Hub) -> None:
    def failing(gate: int) -> Change:
        change = peek(gate)
        change.lock = Step(FAILING_LOCK, {"big": -2**63})
        return change

    group = await asyncio.gather(*(hub.write(failing(1)) for _ in range(3)),
                                 return_exceptions=True)
    assert all(isinstance(r, BaseException) for r in group), group
    # Every connection of the pool still works: as many groups at once as it holds.
    later = await asyncio.gather(*(hub.write(peek(1)) for _ in range(12)))
    assert sorted(r.seq for r in later) == list(range(1, 13))
    assert [e.seq for e in await store.read("door:1", 0)] == list(range(1, 13))


async def test_a_change_redacts_earlier_events_and_writes_further_ones_through_either_door(
        hub: Hub) -> None:
    # One way to write a change: the group commit (`hub.write`) and a domain's transaction
    # (`tx.apply`) redact and add events alike; a further event whose row the database
    # declined (a notification over budget) is left out and its change still commits.
    first = await hub.write(note("secret"))
    skipped: list[int] = []

    def edit(text: str, door: str) -> Change:
        change = note(text)
        change.subject = f"note:{first.results['note']['id']}"
        change.redact.append(Redaction("door:1", change.subject, {"text": "[edited]"}))
        change.also.append(Also("door:2", "note.told", lambda r: {"about": r["note"]["id"]},
                                steps=[Step(ADD_NOTE, {"text": f"told-{door}"}, name="told")],
                                needs="told"))
        change.also.append(Also("door:2", "note.dropped", lambda r: {},
                                steps=[Step(NO_ROW, {})], needs="nothing",
                                left_out=lambda r: skipped.append(1)))
        return change

    through_door = await hub.write(edit("edit-1", "door"))
    async with hub.transaction() as tx:
        in_tx = await tx.apply(edit("edit-2", "tx"))
    assert [e.type for e in through_door.also] == ["note.told"] == [e.type for e in in_tx.also]
    assert skipped == [1, 1]
    told = await store.read("door:2", 0)
    assert [(e.seq, e.type) for e in told] == [(1, "note.told"), (2, "note.told")]
    kept = await store.read("door:1", 0)
    # Each edit rewrote the events before it; its own says what is now.
    assert [e.data["text"] for e in kept] == ["[edited]", "[edited]", "edit-2"]
    assert in_tx.seq == 3 and through_door.seq == 2
