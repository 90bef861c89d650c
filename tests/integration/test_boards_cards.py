"""Cards over `board:ID`: every send, its event and its ack, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from support.api import Api
from support.servers import ServerFactory
from support.wsclient import WSClient

from .test_boards_helpers import act, get_board, ok, order, refused, setup_project

pytestmark = pytest.mark.anyio


async def test_a_card_is_created_moved_edited_commented_and_deleted_live(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo, doing, done = p.columns
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me, \
                await WSClient.connect(server.ws_url, token=p.owner.token) as other:
            await me.join_ok(p.channel)
            await other.join_ok(p.channel)
            made = await ok(me, p.channel, "card.create", column_id=todo, title="First",
                            description="**bold**", due="2030-01-02", labels=["a"])
            card_id = made["data"]["id"]
            [created] = await other.events(p.channel, 1)
            assert created["type"] == "card.created"
            assert created["data"]["title"] == "First" and created["data"]["index"] == 0
            assert "<strong>bold</strong>" in created["data"]["description_html"]
            assert created["data"]["version"] == 1 and created["data"]["due"] == "2030-01-02"

            second = (await ok(me, p.channel, "card.create", column_id=todo, title="Second",
                               index=0))["data"]["id"]
            await other.events(p.channel, 1)
            assert order(get_board(api, p.board_id, p.owner))[0] == (todo, [second, card_id])

            moved = await ok(me, p.channel, "card.move", card_id=card_id, version=1,
                             column_id=done, index=0)
            assert moved["data"]["version"] == 2 and moved["data"]["index"] == 0
            [event] = await other.events(p.channel, 1)
            assert event["type"] == "card.moved"
            assert event["data"] == {"id": card_id, "column_id": done, "from_column_id": todo,
                                     "rank": moved["data"]["rank"], "index": 0, "version": 2}

            await ok(me, p.channel, "card.update", card_id=card_id, version=2, title="Renamed",
                     checklist=[{"text": "one", "done": True}], assignees=[p.owner.username])
            [updated] = await other.events(p.channel, 1)
            assert updated["data"]["title"] == "Renamed" and updated["data"]["version"] == 3
            assert updated["data"]["assignees"] == [p.owner.username]
            assert updated["data"]["column_id"] == done

            comment = await ok(me, p.channel, "card.comment", card_id=card_id, body="Hi _there_")
            [commented] = await other.events(p.channel, 1)
            assert commented["data"]["id"] == comment["data"]["id"]
            assert commented["data"]["comments"] == 1 and "<em>there</em>" in \
                commented["data"]["body_html"]

            board = get_board(api, p.board_id, p.owner)
            [card] = board["columns"][2]["cards"]
            assert card["title"] == "Renamed" and card["comments"] == 1 and card["version"] == 3
            assert card["checklist"] == [{"text": "one", "done": True}]

            await ok(me, p.channel, "card.delete", card_id=card_id, version=3)
            [deleted] = await other.events(p.channel, 1)
            assert deleted["type"] == "card.deleted" and deleted["data"]["id"] == card_id
            assert order(get_board(api, p.board_id, p.owner)) == [(todo, [second]),
                                                                  (doing, []), (done, [])]
            # Replay never brings the deleted card's text or comments back.
            async with await WSClient.connect(server.ws_url, token=p.owner.token) as late:
                await late.join_ok(p.channel, since=0)
                replayed = [f for f in late.buffered() if f.get("op") == "event"]
            assert all(isinstance(f["data"], dict) for f in replayed), replayed
            texts = [f["data"] for f in replayed if f["data"].get("id") == card_id
                     or f["data"].get("card_id") == card_id]
            assert texts and all("First" not in str(d) and "Renamed" not in str(d)
                                 and "there" not in str(d) for d in texts)


async def test_two_clients_moving_one_card_at_once_one_wins_the_other_gets_the_card(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo, doing, done = p.columns
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as a, \
                await WSClient.connect(server.ws_url, token=p.owner.token) as b:
            card_id = (await ok(a, p.channel, "card.create", column_id=todo,
                                title="Contested"))["data"]["id"]
            for attempt in range(5):
                version = get_board(api, p.board_id, p.owner)
                version = next(c["version"] for col in version["columns"] for c in col["cards"])
                await a.send({"op": "send", "ref": f"a{attempt}", "channel": p.channel,
                              "type": "card.move", "data": {"card_id": card_id,
                                                            "version": version,
                                                            "column_id": doing, "index": 0}})
                await b.send({"op": "send", "ref": f"b{attempt}", "channel": p.channel,
                              "type": "card.move", "data": {"card_id": card_id,
                                                            "version": version,
                                                            "column_id": done, "index": 0}})
                ra = await a.wait_for(lambda f, r=f"a{attempt}": f.get("ref") == r)
                rb = await b.wait_for(lambda f, r=f"b{attempt}": f.get("ref") == r)
                assert sorted([ra["op"], rb["op"]]) == ["ack", "error"], (ra, rb)
                winner, loser = (ra, rb) if ra["op"] == "ack" else (rb, ra)
                assert loser["code"] == "conflict"
                current = loser["data"]["card"]
                assert current["id"] == card_id
                assert current["version"] == version + 1 == winner["data"]["version"]
                assert current["column_id"] == winner["data"]["column_id"]
                board = get_board(api, p.board_id, p.owner)
                where = [col["id"] for col in board["columns"]
                         if any(c["id"] == card_id for c in col["cards"])]
                assert where == [winner["data"]["column_id"]]


async def test_cards_keep_the_order_the_server_gives_whatever_the_inserts(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo = p.columns[0]
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            ids: list[int] = []
            # Always between the first two: ranks grow at one spot, then the column is given
            # fresh ranks (column.ranked) and the order stays the same.
            for i in range(80):
                index = 1 if len(ids) >= 2 else len(ids)
                new = (await ok(me, p.channel, "card.create", column_id=todo,
                                title=f"c{i}", index=index))["data"]["id"]
                ids.insert(index, new)
        board = get_board(api, p.board_id, p.owner)
        assert order(board)[0] == (todo, ids)
        assert max(len(c["rank"]) for c in board["columns"][0]["cards"]) <= 48


async def test_column_actions_and_deleting_a_column_with_cards_needs_force(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo, doing, done = p.columns
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            await me.join_ok(p.channel)
            new = (await ok(me, p.channel, "column.create", title="Review", index=2))["data"]
            assert new["index"] == 2
            await ok(me, p.channel, "column.rename", column_id=new["id"], title="Checking")
            await ok(me, p.channel, "column.move", column_id=new["id"], index=0)
            await ok(me, p.channel, "card.create", column_id=new["id"], title="x")
            reply = refused(await act(me, p.channel, "column.delete", column_id=new["id"]),
                            "conflict")
            assert reply["data"] == {"cards": 1}
            await ok(me, p.channel, "column.delete", column_id=new["id"], force=True)
            types = [f["type"] for f in await me.events(p.channel, 5)]
            assert types == ["column.created", "column.renamed", "column.moved", "card.created",
                             "column.deleted"]
        board = get_board(api, p.board_id, p.owner)
        assert [c["id"] for c in board["columns"]] == [todo, doing, done]
        assert all(not c["cards"] for c in board["columns"])
        # Done follows the last column, whichever it is: a card in a column that became last,
        # then stopped being last, then was deleted with it.
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            await ok(me, p.channel, "card.create", column_id=done, title="done one")
            last = (await ok(me, p.channel, "column.create", title="Archive"))["data"]["id"]
            await ok(me, p.channel, "card.create", column_id=last, title="archived")
            await ok(me, p.channel, "column.move", column_id=last, index=0)
            await ok(me, p.channel, "card.create", column_id=todo, title="open")
        figures = api.http.get(f"/api/projects/{p.project['id']}",
                               headers={"Authorization": f"Bearer {p.owner.token}"}
                               ).json()["progress"]
        assert (figures["done"], figures["total"]) == (1, 3)
        assert figures["burnup"][-1] == {"date": figures["burnup"][-1]["date"], "done": 1,
                                         "total": 3}
