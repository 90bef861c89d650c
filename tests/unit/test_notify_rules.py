"""The rules `notify` decides before the database: the actor and a muted recipient get nothing;
anyone else's notification rides on the change that causes it. And the notifications kept as
events before the rows existed become rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from collab.migrations import all_migrations, migrate
from collab.notifications import notify
from collab.realtime import Actor, Change

pytestmark = pytest.mark.anyio

ANN = Actor(id=1, username="ann")


def _change() -> Change:
    return Change(channel="board:1", type="card.commented", data=dict)


async def test_the_actor_and_a_recipient_who_muted_the_source_are_left_out() -> None:
    change = _change()
    assert not await notify(change, ANN.id, "mention", "you", "/cards/1", ANN)
    assert not await notify(change, 2, "mention", "you", "/cards/1", ANN, muted=True)
    assert change.also == [] and change.plain


async def test_another_members_notification_rides_on_the_change() -> None:
    change = _change()
    assert await notify(change, 2, "mention", lambda r: f"card #{r['card']}", "/cards/1", ANN)
    [also] = change.also
    assert also.channel == "user:2" and also.type == "notification"
    assert not change.plain, "it commits with the change, not on its own"
    with pytest.raises(ValueError, match="unknown notification kind"):
        await notify(change, 2, "shout", "you", "/", ANN)


async def test_notifications_kept_as_events_become_rows_when_the_table_is_made(
        tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"
    steps = all_migrations()
    first = [(v, s) for v, s in steps if not v.startswith("notifications_")]
    await migrate(url, first)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO rt_events (channel, seq, type, data, actor, ts) VALUES "
            "('user:7', 1, 'notification', :mention, :actor, '2026-01-02T03:04:05.000Z'), "
            "('user:7', 2, 'notification', :review, NULL, '2026-01-03T03:04:05.000Z'), "
            "('board:1', 1, 'card.created', '{}', NULL, '2026-01-03T03:04:05.000Z')"),
            {"mention": '{"kind":"mention","text":"Ann mentioned you","url":"/cards/3"}',
             "review": '{"text":"“X” was published","url":"/library/2"}',
             "actor": '{"id":5,"username":"ann"}'})
    assert await migrate(url, steps) == ["notifications_0001_initial"]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT user_id, kind, text, url, actor_id, created_at FROM notifications "
            "ORDER BY id"))).all()
    await engine.dispose()
    assert [tuple(r)[:5] for r in rows] == [
        (7, "mention", "Ann mentioned you", "/cards/3", 5),
        (7, "review", "“X” was published", "/library/2", None)]
    assert str(rows[0][5]).startswith("2026-01-02 03:04:05")
