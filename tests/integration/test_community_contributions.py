"""A member's contributions on their profile (`Domain.contributions`): counted by each product
over what the viewer may see: here the cards done on boards (cards assigned to them in their
board's last column), public and private."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import Api, User
from support.servers import ServerFactory
from support.wsclient import WSClient

from .test_boards_helpers import add_member, ok, setup_project

pytestmark = pytest.mark.anyio


def counts(api: Api, viewer: User, username: str) -> dict[str, Any]:
    r = api.http.get(f"/api/members/{username}", headers=viewer.auth)
    assert r.status_code == 200, r.text
    return {c["label"]: c["count"] for c in r.json()["contributions"]}


async def test_cards_done_count_what_the_viewer_may_see(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        worker, outsider = api.register(), api.register()
        private = setup_project(api)
        public = setup_project(api, private.owner, visibility="public")
        for p in (private, public):
            add_member(api, p.owner, int(p.project["id"]), worker)
        async with await WSClient.connect(server.ws_url, token=private.owner.token) as sock:
            for p, cards in ((private, [("done", [worker]), ("todo", [worker]),
                                        ("done", [private.owner])]),
                             (public, [("done", [worker, private.owner]), ("doing", [worker])])):
                await sock.join_ok(p.channel)
                todo, doing, done = p.columns
                for where, people in cards:
                    column = {"todo": todo, "doing": doing, "done": done}[where]
                    card = await ok(sock, p.channel, "card.create", column_id=column,
                                    title=f"A card in {where}")
                    await ok(sock, p.channel, "card.update", card_id=card["data"]["id"],
                             version=1, assignees=[u.username for u in people])
            # A card done, then moved back out of the last column, is not done.
            todo, doing, done = public.columns
            back = await ok(sock, public.channel, "card.create", column_id=done, title="Back")
            await ok(sock, public.channel, "card.update", card_id=back["data"]["id"], version=1,
                     assignees=[worker.username])
            await ok(sock, public.channel, "card.move", card_id=back["data"]["id"], version=2,
                     column_id=todo, index=0)

        # The outsider sees only the public board's card; a member of both boards sees both.
        assert counts(api, outsider, worker.username)["cards done"] == 1
        assert counts(api, private.owner, worker.username)["cards done"] == 2
        assert counts(api, worker, private.owner.username)["cards done"] == 2
        assert counts(api, outsider, private.owner.username)["cards done"] == 1
