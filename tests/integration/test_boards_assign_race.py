"""An assignment read before a member's removal and written after it is refused.

The removal takes the member off every card under the board's lock; a `card.update` or
`card.create` that had checked its assignees before that lock, and wrote after it, left the
removed member assigned (seen with six sockets sending while the owner removed them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.hubs import running_hub

from collab.accounts.auth import actor_of
from collab.accounts.service import create_user
from collab.boards import cards, reads, service
from collab.boards.access import project_access
from collab.errors import Invalid
from collab.realtime import Hub

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    async with running_hub(database_url, "race") as started:
        yield started


@pytest.mark.parametrize("action", ["update", "create"])
async def test_a_member_removed_between_check_and_write_is_not_assigned(
        hub: Hub, monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    owner = await create_user("race-owner", "long-enough-password")
    member = await create_user("race-member", "long-enough-password")
    project = await service.create_project(hub, owner, {"name": "Race", "visibility": "private"})
    await service.set_member(hub, owner, project["id"], {"username": member.username,
                                                         "role": "member"})
    access = await project_access(project["id"], owner)
    column = (await reads.columns_of(access.board_id))[0]["id"]
    _, made = await cards.create_card(hub, actor_of(owner), access,
                                      {"column_id": column, "title": "Shared"})
    checked = cards.resolve_assignees

    async def removed_meanwhile(project_id: int, names: list[str]) -> Any:
        people = await checked(project_id, names)  # still a member when checked …
        await service.remove_member(hub, owner, project_id, member.id)  # … then removed
        return people

    monkeypatch.setattr(cards, "resolve_assignees", removed_meanwhile)
    data: dict[str, Any] = {"assignees": [member.username]}
    with pytest.raises(Invalid) as refused:
        if action == "update":
            await cards.update_card(hub, actor_of(owner), access,
                                    {"card_id": made["id"], "version": 1, **data})
        else:
            await cards.create_card(hub, actor_of(owner), access,
                                    {"column_id": column, "title": "New", **data})
    assert refused.value.extra["field"] == "assignees"
    board = await reads.board(access.board_id)
    assert all(member.username not in c.get("assignees", []) for col in board
               for c in col["cards"])
