"""Card rules: create, move, edit, delete, comment; what each may contain; @mentions.

Every change is checked against the sender's grant (`Access`), validated before anything is
written, and made against a `version`: a card changed since the sender last saw it is refused
with `conflict`, carrying the card as it now is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa

from collab import db
from collab.clock import utcnow
from collab.errors import CollabError, Conflict, Invalid
from collab.fields import id_field, text_field
from collab.markdown import render_markdown
from collab.notifications import capped, mentioned
from collab.realtime import Actor, Change, Hub, Redaction, Step

from . import ranks, reads
from .access import Access
from .card_fields import (
    EDITABLE,
    MAX_COMMENT,
    due_date,
    index_field,
    merge_fields,
    resolve_assignees,
    version_field,
)
from .mentions import mention_targets, tell_mentioned
from .models import Card
from .writes import (
    ASSIGN,
    BOARD_HAS_ROOM,
    BUMP_VERSION,
    COUNT_COMMENT,
    COUNT_DEPARTURE,
    DELETE_CARD,
    DELETE_COMMENTS,
    INSERT_CARD,
    INSERT_COMMENT,
    LAST_COLUMN,
    MAX_CARDS_PER_BOARD,
    MOVE_CARD,
    UNASSIGN_ALL,
    UPDATE_CARD,
    Results,
    Stale,
    assignable_steps,
    board_transaction,
    card_redactions,
    count_step,
    done_delta,
    index_out_of_range,
    lock_step,
    log_step,
    neighbours_step,
    no_column,
    not_found_card,
    place_steps,
    placed_rank,
    retrying,
)

_cards = Card.ormar_config.table

# -- conflicts -----------------------------------------------------------------------------------
async def stale(board_id: int, card_id: int) -> CollabError:
    """What a refused version check means: the card is gone, or here it is as it now is."""
    card = await reads.card(board_id, card_id)
    if card is None:
        return not_found_card(card_id)
    return Conflict(f"card {card_id} was changed by someone else (it is now at version "
                    f"{card['version']}); nothing was changed", extra={"data": {"card": card}})


def _stale() -> Stale:
    return Stale("the card was changed or deleted")


async def _write(hub: Hub, change: Change) -> tuple[int, dict[str, Any]]:
    """Through the door: (seq, ack data)."""
    written = await hub.write(change)
    return written.seq, written.ack or {}


# -- create --------------------------------------------------------------------------------------
async def create_card(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                      ) -> tuple[int, dict[str, Any]]:
    """A new card at the end of a column, or at `index`; returns (seq, ack data)."""
    access.require_write(actor)
    column_id = id_field(data, "column_id")
    assert column_id is not None
    index = index_field(data)
    card = merge_fields({k: v for k, v in data.items() if k in EDITABLE} | {"title": data.get("title")},
                   {"description": "", "due": None, "labels": [], "checklist": [],
                    "assignees": []})
    people = await resolve_assignees(access.project_id, card["assignees"])
    card["assignees"] = [name for _, name in people]
    html = render_markdown(card["description"]) if card["description"] else ""
    names = await capped(card["description"], "description")
    targets = await mention_targets(access.project_id, names, actor.id)
    board_id, now = access.board_id, utcnow()

    async def plan() -> Change:
        checks = [
            *assignable_steps(access.project_id, people),
            Step(BOARD_HAS_ROOM, {"b_board": board_id, "max_cards": MAX_CARDS_PER_BOARD},
                 refuse=Invalid(f"a board holds at most {MAX_CARDS_PER_BOARD:,} cards")),
            neighbours_step(column_id, board_id, 0, index),
            # A check, not a write: the rank's parameter refuses a column of another board or
            # an index past the end, before the seq is taken.
            Step(INSERT_CARD, {"b_board": board_id, "to_column": column_id,
                               "new_rank": placed_rank(column_id, index),
                               "new_title": card["title"],
                               "new_description": card["description"],
                               "new_description_html": html, "new_due": due_date(card["due"]),
                               "new_labels": orjson.dumps(card["labels"]).decode(),
                               "new_checklist": orjson.dumps(card["checklist"]).decode(),
                               "actor_id": actor.id, "now": now}, name="card"),
        ]
        writes = [
            *(Step(ASSIGN, {"the_card": _new_id, "the_user": uid}) for uid, _ in people),
            log_step(board_id, now, done_delta(column_id, None), 1),
            count_step(column_id, None),
        ]

        def at(r: Results) -> int:  # at the end: after the cards the column held
            return int(r["near"]["others"]) if index is None else index

        def event(r: Results) -> dict[str, Any]:
            return {"id": r["card"]["id"], "column_id": column_id, "rank": r["card"]["rank"],
                    "index": at(r), "title": card["title"], "version": 1,
                    "description": card["description"], "description_html": html,
                    "assignees": card["assignees"], "due": card["due"], "labels": card["labels"],
                    "checklist": card["checklist"], "comments": 0}

        change = Change(f"board:{board_id}", "card.created", event, checks, writes,
                        actor=actor.public(),
                        ack=lambda r: {"id": r["card"]["id"], "version": 1,
                                       "column_id": column_id, "rank": r["card"]["rank"],
                                       "index": at(r)},
                        subject=lambda r: f"card:{r['card']['id']}", lock=lock_step(board_id))
        await tell_mentioned(change, targets, actor, access, _new_id, "on the new")
        return change

    async def attempt() -> tuple[int, dict[str, Any]]:
        return await _write(hub, await plan())

    seq, ack = await retrying(attempt)
    if ranks.needs_rebalance(ack["rank"]):
        await rebalance(hub, actor, board_id, column_id)
    return seq, ack


def _new_id(r: Results) -> int:
    return int(r["card"]["id"])


def _from_column(r: Results) -> int:
    return int(r["old"]["from_column"])


def _move_checks(board_id: int, card_id: int, version: int, column_id: int, index: int,
                 now: Any) -> list[Step]:
    """The card's version check, its new neighbours and its new place: one statement on
    PostgreSQL (a board's moves run one after another, each round trip a move's worth of
    waiting for the others), five on SQLite (no UPDATE in a WITH there, and no round trips)."""
    if db.is_sqlite():
        return [
            Step(BUMP_VERSION, {"b_card": card_id, "b_board": board_id, "b_version": version,
                                "now": now}, name="old", refuse=_stale()),
            neighbours_step(column_id, board_id, card_id, index, moving_from=_from_column),
            *place_steps(board_id, card_id, column_id, index, _from_column, now),
        ]
    return [Step(MOVE_CARD, {"b_card": card_id, "b_board": board_id, "b_version": version,
                             "now": now, "to_column": column_id, "index": index},
                 name="moved", refuse=refused_move(version, column_id, index))]


def _moved(r: Results) -> tuple[int, int, str]:
    """(the column the card left, its new version, its new rank) on either database."""
    if "moved" in r:
        return r["moved"]["from_column"], r["moved"]["version"], r["moved"]["rank"]
    return r["old"]["from_column"], r["old"]["version"], r["placed"]["rank"]


def refused_move(version: int, column_id: int, index: int
                 ) -> Callable[[dict[str, Any] | None], CollabError]:
    """Why MOVE_CARD refused, from its row as it was read in the move's own snapshot."""
    def why(row: dict[str, Any] | None) -> CollabError:
        if row is None or row["from_column"] is None or row["was_version"] != version:
            return _stale()  # gone or changed: move_card answers with the card as it is now
        if row["others"] is None:
            return no_column(column_id)
        return index_out_of_range(index, row["others"])
    return why


# -- move ----------------------------------------------------------------------------------------
async def move_card(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                    ) -> tuple[int, dict[str, Any]]:
    """Put a card at `index` of a column (its place among the others there, after the move).

    Writes the card's row (version, column, rank) and, if it entered or left the done column,
    one log row: a constant amount whatever the column's size.
    """
    access.require_write(actor)
    card_id = id_field(data, "card_id")
    version = version_field(data)
    column_id = id_field(data, "column_id")
    index = index_field(data, required=True)
    assert card_id is not None and column_id is not None
    board_id, now = access.board_id, utcnow()

    def change() -> Change:
        # The card is at `index`: its neighbours were read under the board's lock (taken
        # first), so no other change came between them (no count of the column needed).
        return Change(
            f"board:{board_id}", "card.moved",
            lambda r: {"id": card_id, "column_id": column_id, "from_column_id": _moved(r)[0],
                       "rank": _moved(r)[2], "index": index, "version": _moved(r)[1]},
            _move_checks(board_id, card_id, version, column_id, index, now), [],
            actor=actor.public(),
            ack=lambda r: {"id": card_id, "version": _moved(r)[1], "column_id": column_id,
                           "rank": _moved(r)[2], "index": index},
            lock=lock_step(board_id))

    async def attempt() -> tuple[int, dict[str, Any]]:
        return await _write(hub, change())

    try:
        seq, ack = await retrying(attempt)
    except Stale:
        raise await stale(board_id, card_id) from None
    if ranks.needs_rebalance(ack["rank"]):
        await rebalance(hub, actor, board_id, column_id)
    return seq, ack


# -- update --------------------------------------------------------------------------------------
def _text_of(card: dict[str, Any]) -> tuple[Any, ...]:
    return (card["title"], card["description"], tuple(card["labels"]),
            tuple(item["text"] for item in card["checklist"]))


async def update_card(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                      ) -> tuple[int, dict[str, Any]]:
    """Change a card's fields (those given); the event carries the whole card."""
    access.require_write(actor)
    card_id = id_field(data, "card_id")
    version = version_field(data)
    assert card_id is not None
    if not any(k in data for k in EDITABLE):
        raise Invalid(f"nothing to change: give any of {', '.join(EDITABLE)}")
    board_id = access.board_id
    current = await reads.card(board_id, card_id)
    if current is None:
        raise not_found_card(card_id)
    if current["version"] != version:
        raise await stale(board_id, card_id)
    new = merge_fields(data, current)
    people = await resolve_assignees(access.project_id, new["assignees"]) \
        if "assignees" in data else None
    if people is not None:
        new["assignees"] = [name for _, name in people]
    if new["description"] != current["description"]:
        new["description_html"] = render_markdown(new["description"]) \
            if new["description"] else ""
    fresh = set()
    if new["description"] != current["description"]:
        fresh = await capped(new["description"], "description") - mentioned(
            current["description"])
    targets = await mention_targets(access.project_id, fresh, actor.id)
    rewrites_text = _text_of(new) != _text_of(current)
    now = utcnow()

    async def change() -> Change:
        checks = [Step(UPDATE_CARD, {
            "b_card": card_id, "b_board": board_id, "b_version": version,
            "new_title": new["title"], "new_description": new["description"],
            "new_description_html": new["description_html"], "new_due": due_date(new["due"]),
            "new_labels": orjson.dumps(new["labels"]).decode(),
            "new_checklist": orjson.dumps(new["checklist"]).decode(), "now": now},
            name="upd", refuse=_stale()),
            # After UPDATE_CARD, which took the board's lock: read before it, a removal that
            # committed while this change waited for the lock went unseen (PostgreSQL).
            *assignable_steps(access.project_id, people or [])]
        writes: list[Step] = []
        if people is not None:
            writes.append(Step(UNASSIGN_ALL, {"b_card": card_id}))
            writes.extend(Step(ASSIGN, {"the_card": card_id, "the_user": uid})
                          for uid, _ in people)
        made = Change(f"board:{board_id}", "card.updated",
                      lambda r: {**new, "version": r["upd"]["version"]}, checks, writes,
                      actor=actor.public(),
                      ack=lambda r: {"id": card_id, "version": r["upd"]["version"]},
                      subject=f"card:{card_id}")
        if rewrites_text:
            # New text: earlier events about the card are rewritten too, so that a replay
            # shows the card as it is, never its earlier text.
            made.redact.append(Redaction(
                f"board:{board_id}", f"card:{card_id}",
                {k: new[k] for k in ("title", "description", "description_html", "labels",
                                     "checklist")}))
        await tell_mentioned(made, targets, actor, access, card_id, "on")
        return made

    try:
        return await _write(hub, await change())
    except Stale:
        raise await stale(board_id, card_id) from None


# -- delete --------------------------------------------------------------------------------------
async def delete_card(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                      ) -> tuple[int, dict[str, Any]]:
    access.require_write(actor)
    card_id = id_field(data, "card_id")
    version = version_field(data)
    assert card_id is not None
    board_id, channel = access.board_id, f"board:{access.board_id}"

    def done(r: Results) -> int:  # -1 when the card left the last column
        return -1 if r["gone"]["column_id"] == r["last"]["id"] else 0

    change = Change(
        channel, "card.deleted", lambda r: {"id": card_id, "column_id": r["gone"]["column_id"]},
        [Step(DELETE_CARD, {"b_card": card_id, "b_board": board_id, "b_version": version},
              name="gone", refuse=_stale()),
         Step(LAST_COLUMN, {"b_board": board_id}, name="last")],
        [Step(UNASSIGN_ALL, {"b_card": card_id}), Step(DELETE_COMMENTS, {"b_card": card_id}),
         log_step(board_id, utcnow(), done, -1),
         Step(COUNT_DEPARTURE, {"b_column": lambda r: r["gone"]["column_id"]})],
        actor=actor.public(), ack=lambda r: {"id": card_id}, subject=f"card:{card_id}",
        lock=lock_step(board_id), redact=card_redactions(channel, card_id))
    try:
        seq, _ = await _write(hub, change)
    except Stale:
        raise await stale(board_id, card_id) from None
    return seq, {"id": card_id}


# -- comment -------------------------------------------------------------------------------------
async def comment_card(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                       ) -> tuple[int, dict[str, Any]]:
    """A Markdown comment; `@username` of a project member notifies them."""
    access.require_write(actor)
    card_id = id_field(data, "card_id")
    assert card_id is not None
    body = text_field(data, "body", MAX_COMMENT)
    body_html = render_markdown(body)
    targets = await mention_targets(access.project_id, await capped(body), actor.id)
    board_id, channel, now = access.board_id, f"board:{access.board_id}", utcnow()
    params = {"b_card": card_id, "b_board": board_id, "b_author": actor.id, "b_body": body,
              "b_body_html": body_html, "now": now}

    def comment(r: Results) -> dict[str, Any]:
        return {**reads.comment_dict(r["comment"]["id"], card_id, body, body_html, now,
                                     actor.public()), "comments": r["card"]["comment_count"]}

    change = Change(channel, "card.commented", comment,
                    [Step(COUNT_COMMENT, params, name="card", refuse=not_found_card(card_id)),
                     Step(INSERT_COMMENT, params, name="comment")], [],
                    actor=actor.public(), ack=lambda r: {"id": r["comment"]["id"]},
                    subject=f"comments:{card_id}", lock=lock_step(board_id))
    await tell_mentioned(change, targets, actor, access, card_id, "in a comment on")
    return await _write(hub, change)


# -- rebalance -----------------------------------------------------------------------------------
async def rebalance(hub: Hub, actor: Actor, board_id: int, column_id: int) -> None:
    """Give a column fresh, short ranks in the same order (after many inserts at one spot).

    Rare: ranks grow about one character per six inserts at one place. Clients apply the
    `column.ranked` event's ranks; the order does not change.
    """
    async with board_transaction(hub, board_id) as tx:
        rows = (await tx.conn.execute(sa.select(_cards.c.id, _cards.c.rank)
                                      .where(_cards.c.column_id == column_id))).all()
        ordered = [r.id for r in sorted(rows, key=lambda r: r.rank)]
        fresh = ranks.spread(len(ordered))
        # Out of the way first ('~' sorts after every rank digit), so no two rows ever collide.
        await tx.conn.execute(sa.update(_cards).where(_cards.c.column_id == column_id).values(
            rank=sa.literal("~") + sa.cast(_cards.c.id, sa.String)))
        if ordered:
            await tx.conn.execute(
                sa.update(_cards).where(_cards.c.id == sa.bindparam("cid"))
                .values(rank=sa.bindparam("fresh")),
                [{"cid": cid, "fresh": rank} for cid, rank in zip(ordered, fresh, strict=True)])
        await tx.emit(f"board:{board_id}", "column.ranked",
                      {"id": column_id, "cards": [[cid, rank] for cid, rank
                                                  in zip(ordered, fresh, strict=True)]}, actor)
