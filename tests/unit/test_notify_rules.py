"""The rules `notify` decides before the database: the actor and a muted recipient get nothing;
anyone else's notification rides on the change that causes it."""

from __future__ import annotations

import pytest

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
