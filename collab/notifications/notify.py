"""`notify`: the one way a notification is made, with the rules every notification follows.

Inside the change that causes it (a `Change` through the door, or a `hub.transaction()`), it:
- never notifies the actor;
- leaves out a recipient who muted the source (the domain knows what a mute is: `muted=True`);
- honours the member's preference for that kind (`notification_preferences`, "off": none);
- keeps to the sender's budget (`NOTIFICATIONS_PER_SENDER_PER_HOUR`): the row is written only
  while the sender's notifications of the last hour are fewer, counted in the database, so the
  budget holds across processes; beyond it the action still succeeds, the notification is
  dropped and counted (`collab_notifications_dropped_total` in `/metrics`);
- writes the row (read state lives there) and emits `notification` on `user:ID`, committed
  with the change.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from collab import db, metrics
from collab.clock import utcnow
from collab.realtime import Actor, Also, Change, Step, Stmt
from collab.settings import Settings

from .models import notifications, preferences

# PROTOCOL.md, Notifications: the kinds there are.
KINDS = ("reply", "mention", "assigned", "card", "review", "webinar", "feedback", "badge",
         "invitation")
MAX_TEXT = 300
# The advisory lock's first key: the budget's own space (the second is the sender's id).
_BUDGET_LOCK_SPACE = 8124551


@dataclass
class Rules:
    """The settings the rules read (set from the app's settings when it starts)."""

    max_mentions_per_text: int = 10
    per_sender_per_hour: int = 300


RULES = Rules()
_names = itertools.count(1)


def configure(settings: Settings) -> None:
    RULES.max_mentions_per_text = settings.max_mentions_per_text
    RULES.per_sender_per_hour = settings.notifications_per_sender_per_hour


def _p(name: str, type_: Any = None) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=type_)


_n, _prefs = notifications, preferences
_sent_lately = (sa.select(sa.func.count()).select_from(_n)
                .where(_n.c.actor_id == _p("n_actor", sa.Integer),
                       _n.c.created_at > _p("n_since", sa.DateTime)).scalar_subquery())
# A row when the member turned this kind of notification off (the preferences' plug).
TURNED_OFF = Stmt(sa.select(_prefs.c.user_id).where(
    _prefs.c.user_id == _p("n_user", sa.Integer), _prefs.c.kind == _p("n_kind", sa.String),
    _prefs.c.delivery == sa.literal_column("'off'")))
# One row, or none when the member turned the kind off or the sender is over budget.
INSERT = Stmt(sa.insert(_n).from_select(
    ["user_id", "kind", "text", "url", "actor_id", "created_at"],
    sa.select(_p("n_user", sa.Integer), _p("n_kind", sa.String), _p("n_text", sa.String),
              _p("n_url", sa.String), _p("n_actor", sa.Integer), _p("n_now", sa.DateTime))
    .where(_p("n_off", sa.Integer) == 0,
           sa.or_(_p("n_actor", sa.Integer).is_(None),
                  _sent_lately < _p("n_budget", sa.Integer))))
    .returning(_n.c.id))
# PostgreSQL: one sender's notifications are counted and written one transaction at a time
# (READ COMMITTED: two processes would both count 299 and both write). SQLite has one writer.
BUDGET_LOCK = Stmt(sa.select(sa.func.pg_advisory_xact_lock(
    sa.literal(_BUDGET_LOCK_SPACE, sa.Integer), _p("n_actor", sa.Integer))))


Text = str | Callable[[dict[str, Any]], str]


def _of(value: Text, results: dict[str, Any]) -> str:
    return (value(results) if callable(value) else value)[:MAX_TEXT]


def notification(user_id: int, kind: str, text: Text, url: Text, actor: Actor | None) -> Also:
    """The row and the event of one notification, for a change to carry (see `notify`).
    `text` and `url` may be functions of the change's results (a new card's number)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = utcnow()
    n = next(_names)
    name, off = f"notification_{n}", f"notification_{n}_off"  # its rows in the results
    params = {"n_user": user_id, "n_kind": kind, "n_text": lambda r: _of(text, r),
              "n_url": lambda r: _of(url, r), "n_actor": actor.id if actor else None,
              "n_now": now, "n_since": now - dt.timedelta(hours=1),
              "n_budget": RULES.per_sender_per_hour, "n_off": lambda r: int(off in r)}
    steps = [Step(TURNED_OFF, params, name=off), Step(INSERT, params, name=name)]
    if actor is not None and not db.is_sqlite():
        steps.insert(0, Step(BUDGET_LOCK, {"n_actor": actor.id}))

    def data(r: dict[str, Any]) -> dict[str, Any]:
        return {"id": r[name]["id"], "kind": kind, "text": _of(text, r), "url": _of(url, r),
                "actor": actor.public() if actor else None,
                "created_at": now.isoformat(timespec="seconds") + "Z", "read": False}

    def left_out(r: dict[str, Any]) -> None:
        if off not in r:  # over budget, not a member's choice
            metrics.counts.notifications_dropped += 1

    return Also(f"user:{user_id}", "notification", data, steps=steps, needs=name,
                left_out=left_out)


async def notify(tx: Any, user_id: int, kind: str, text: Text, url: Text, actor: Actor | None,
                 *, muted: bool = False) -> bool:
    """Notify `user_id`, in the change `tx` causes: a `Change` (it carries the notification
    through the door) or a `hub.transaction()`'s `tx` (written there at once).

    `muted`: the recipient muted what this comes from (a project, say); a domain may instead
    leave them out before calling. Returns False when a rule left it out before writing (the
    actor, a mute); the budget and the member's preferences are decided in the database.
    """
    if muted or (actor is not None and actor.id == user_id):
        return False
    also = notification(user_id, kind, text, url, actor)
    if isinstance(tx, Change):
        tx.also.append(also)
    else:
        await tx.extras([also], actor=actor)
    return True
