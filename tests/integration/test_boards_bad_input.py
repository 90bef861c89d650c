"""Bad input on a board: clear errors, and nothing changed, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import Api
from support.servers import ServerFactory
from support.wsclient import WSClient

from .test_boards_helpers import act, get_board, ok, refused, setup_project

pytestmark = pytest.mark.anyio


async def test_bad_sends_are_refused_with_clear_errors_and_change_nothing(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        elsewhere = setup_project(api, owner=p.owner)
        todo, doing, _ = p.columns
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            card = (await ok(me, p.channel, "card.create", column_id=todo,
                             title="Only card"))["data"]
            foreign = (await ok(me, elsewhere.channel, "card.create",
                                column_id=elsewhere.columns[0], title="Other"))["data"]
            before = get_board(api, p.board_id, p.owner)
            cid, v = card["id"], card["version"]
            cases: list[tuple[str, dict[str, Any], str, str]] = [
                # unknown or other boards' ids
                ("card.move", {"card_id": 999999999, "version": 1, "column_id": doing,
                               "index": 0}, "not_found", "card"),
                ("card.move", {"card_id": foreign["id"], "version": 1, "column_id": doing,
                               "index": 0}, "not_found", "card"),
                ("card.move", {"card_id": cid, "version": v, "column_id": 999999999,
                               "index": 0}, "not_found", "column"),
                ("card.move", {"card_id": cid, "version": v,
                               "column_id": elsewhere.columns[1], "index": 0},
                 "not_found", "column"),
                ("card.create", {"column_id": elsewhere.columns[0], "title": "x"},
                 "not_found", "column"),
                ("card.update", {"card_id": foreign["id"], "version": 1, "title": "x"},
                 "not_found", "card"),
                ("card.delete", {"card_id": 999999999, "version": 1}, "not_found", "card"),
                ("card.comment", {"card_id": foreign["id"], "body": "x"}, "not_found", "card"),
                ("column.rename", {"column_id": elsewhere.columns[0], "title": "x"},
                 "not_found", "column"),
                ("column.delete", {"column_id": 999999999}, "not_found", "column"),
                # indexes out of range, wrong types
                ("card.move", {"card_id": cid, "version": v, "column_id": doing, "index": 1},
                 "invalid", "index"),
                ("card.move", {"card_id": cid, "version": v, "column_id": todo, "index": 1},
                 "invalid", "index"),
                ("card.move", {"card_id": cid, "version": v, "column_id": doing, "index": -1},
                 "invalid", "index"),
                ("card.move", {"card_id": cid, "version": v, "column_id": doing,
                               "index": 10**30}, "invalid", "index"),
                ("card.move", {"card_id": cid, "version": v, "column_id": doing}, "invalid",
                 "index"),
                ("card.move", {"card_id": "1; DROP", "version": v, "column_id": doing,
                               "index": 0}, "invalid", "card_id"),
                ("card.move", {"card_id": cid, "version": True, "column_id": doing,
                               "index": 0}, "invalid", "version"),
                ("card.create", {"column_id": todo, "title": "x", "index": 5}, "invalid",
                 "index"),
                ("column.move", {"column_id": todo, "index": 3}, "invalid", "index"),
                # stale versions
                ("card.move", {"card_id": cid, "version": v + 1, "column_id": doing,
                               "index": 0}, "conflict", "card"),
                ("card.update", {"card_id": cid, "version": v + 5, "title": "late"},
                 "conflict", "card"),
                ("card.delete", {"card_id": cid, "version": 99}, "conflict", "card"),
                # oversized, empty or unstorable text
                ("card.create", {"column_id": todo, "title": "x" * 201}, "invalid", "title"),
                ("card.create", {"column_id": todo, "title": "   "}, "invalid", "title"),
                ("card.create", {"column_id": todo, "title": "a\x00b"}, "invalid", "title"),
                ("card.create", {"column_id": todo, "title": "ok",
                                 "description": "x" * 20_001}, "invalid", "description"),
                ("card.update", {"card_id": cid, "version": v, "description": "nul \x00 here"},
                 "invalid", "description"),
                ("card.update", {"card_id": cid, "version": v, "labels": ["x" * 41]},
                 "invalid", "labels"),
                ("card.update", {"card_id": cid, "version": v, "labels": "not a list"},
                 "invalid", "labels"),
                ("card.update", {"card_id": cid, "version": v,
                                 "checklist": [{"text": "x", "done": "yes"}]},
                 "invalid", "checklist"),
                ("card.update", {"card_id": cid, "version": v,
                                 "checklist": [{"text": "x"}] * 101}, "invalid", "checklist"),
                ("card.update", {"card_id": cid, "version": v, "assignees": ["nobody-here"]},
                 "invalid", "assignees"),
                ("card.update", {"card_id": cid, "version": v}, "invalid", "nothing"),
                ("card.comment", {"card_id": cid, "body": ""}, "invalid", "body"),
                ("card.comment", {"card_id": cid, "body": "x" * 10_001}, "invalid", "body"),
                ("column.create", {"title": "x" * 101}, "invalid", "title"),
                # invalid dates
                ("card.update", {"card_id": cid, "version": v, "due": "2026-02-30"},
                 "invalid", "due"),
                ("card.update", {"card_id": cid, "version": v, "due": "tomorrow"},
                 "invalid", "due"),
                # ISO week and ordinal dates are ISO 8601, but not YYYY-MM-DD.
                ("card.update", {"card_id": cid, "version": v, "due": "2026-W01-1"},
                 "invalid", "due"),
                ("card.update", {"card_id": cid, "version": v, "due": "2026-001+00"},
                 "invalid", "due"),
                ("card.update", {"card_id": cid, "version": v, "due": 20260101},
                 "invalid", "due"),
                ("card.create", {"column_id": todo, "title": "x", "due": "0001-01-01"},
                 "invalid", "due"),
                # unknown actions
                ("card.burn", {"card_id": cid}, "invalid", "accept"),
            ]
            for type_, data, code, word in cases:
                reply = refused(await act(me, p.channel, type_, **data), code)
                assert word in reply["message"] or word == reply.get("field"), (type_, reply)
                if code == "conflict" and type_.startswith("card."):
                    assert reply["data"]["card"]["version"] == v, reply
            # A frame too large for the socket is refused before any rule runs (unread, so
            # without its ref).
            await me.send({"op": "send", "ref": "big", "channel": p.channel,
                           "type": "card.create",
                           "data": {"column_id": todo, "title": "x", "description": "y" * 70_000}})
            await me.wait_for(lambda f: f.get("code") == "too_large")
            after = get_board(api, p.board_id, p.owner)
            assert after == before


async def test_every_action_twice_with_one_key_is_done_once(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo, doing, _ = p.columns
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            async def keyed(key: str, type_: str, **data: Any) -> dict[str, Any]:
                replies = []
                for n in range(2):
                    await me.send({"op": "send", "ref": f"{key}-{n}", "channel": p.channel,
                                   "type": type_, "data": data, "key": key})
                    replies.append(await me.wait_for(lambda f, r=f"{key}-{n}":
                                                     f.get("ref") == r))
                first, second = replies
                assert first["op"] == second["op"] == "ack", replies
                assert first.get("data") == second.get("data") and \
                    first.get("seq") == second.get("seq"), replies
                return first

            made = await keyed("k1", "card.create", column_id=todo, title="Once")
            card_id = made["data"]["id"]
            await keyed("k2", "card.move", card_id=card_id, version=1, column_id=doing,
                        index=0)
            await keyed("k3", "card.update", card_id=card_id, version=2, title="Twice?")
            await keyed("k4", "card.comment", card_id=card_id, body="one comment")
            await keyed("k5", "column.create", title="Extra")
            await keyed("k6", "card.delete", card_id=card_id, version=3)
        board = get_board(api, p.board_id, p.owner)
        assert [len(c["cards"]) for c in board["columns"]] == [0, 0, 0, 0]
        assert [c["title"] for c in board["columns"]][-1] == "Extra"


async def test_one_key_sent_at_once_on_several_sockets_is_done_once_and_acked_alike(
    live_server: ServerFactory, database_url: str,
) -> None:
    # A client that reconnects and retries while its first socket's send is still under way:
    # the protocol answers every copy with the first ack. The twins used to get `conflict`
    # (the key's row was taken) or `not_found` (the twin had deleted the card).
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo, doing, _ = p.columns
        titles = [c["title"] for c in get_board(api, p.board_id, p.owner)["columns"]]
        sockets = [await WSClient.connect(server.ws_url, token=p.owner.token)
                   for _ in range(4)]
        try:
            async def at_once(key: str, type_: str, **data: Any) -> dict[str, Any]:
                for n, ws in enumerate(sockets):
                    await ws.send({"op": "send", "ref": f"{key}-{n}", "channel": p.channel,
                                   "type": type_, "data": data, "key": key})
                replies = [await ws.wait_for(lambda f, r=f"{key}-{n}": f.get("ref") == r)
                           for n, ws in enumerate(sockets)]
                assert all(r["op"] == "ack" for r in replies), (type_, replies)
                assert len({(str(r.get("data")), r.get("seq")) for r in replies}) == 1, replies
                return replies[0]

            card_id = (await at_once("c1", "card.create", column_id=todo,
                                     title="Once"))["data"]["id"]
            await at_once("c2", "card.update", card_id=card_id, version=1, title="Renamed")
            await at_once("c3", "card.comment", card_id=card_id, body="one comment")
            await at_once("c4", "card.move", card_id=card_id, version=2, column_id=doing,
                          index=0)
            extra = (await at_once("c5", "column.create", title="Extra"))["data"]["id"]
            await at_once("c6", "column.rename", column_id=extra, title="Extra!")
            await at_once("c7", "column.move", column_id=extra, index=0)
            await at_once("c8", "card.delete", card_id=card_id, version=3)
            await at_once("c9", "column.delete", column_id=extra)
        finally:
            for ws in sockets:
                await ws.close()
        board = get_board(api, p.board_id, p.owner)
        assert [c["title"] for c in board["columns"]] == titles
        assert all(not c["cards"] for c in board["columns"])


async def test_one_assignee_named_twice_in_different_case_is_assigned_once(
    live_server: ServerFactory, database_url: str
) -> None:
    """Issue 21, item 8: `[name, NAME]` answered `conflict` "the board is busy … retry" after
    five internal retries (`retry: true` on PostgreSQL), so a client that follows the contract
    retried forever. User names compare case-folded: the second is the same member."""
    from .test_boards_helpers import add_member

    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        mate = api.register()
        add_member(api, p.owner, int(p.project["id"]), mate)
        twice = [mate.username, mate.username.upper(), f" {mate.username.lower()} "]
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            made = await ok(me, p.channel, "card.create", column_id=p.columns[0],
                            title="Twice", assignees=twice)
            card_id = made["data"]["id"]
            [card] = [c for c in get_board(api, p.board_id, p.owner)["columns"][0]["cards"]
                      if c["id"] == card_id]
            assert card["assignees"] == [mate.username]
            await ok(me, p.channel, "card.update", card_id=card_id, version=card["version"],
                     assignees=[p.owner.username.upper(), *twice, p.owner.username])
            [card] = [c for c in get_board(api, p.board_id, p.owner)["columns"][0]["cards"]
                      if c["id"] == card_id]
            assert card["assignees"] == [p.owner.username, mate.username]
