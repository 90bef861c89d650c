"""Many clients changing one board at once: every client's board, rebuilt from its events alone,
equals the board read over HTTP, on SQLite and on PostgreSQL.

No accepted move is lost, no card is in two places or missing, two cards never share a place
(positions 0..n-1 in every column), and each event's `index` is where the card stands once the
events before it are applied.
"""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest
from support.api import Api, User
from support.servers import LiveServer, ServerFactory
from support.wsclient import Frame, WSClient

from .test_boards_helpers import Replica, add_member, get_board, order, setup_project

pytestmark = pytest.mark.anyio
CLIENTS = 6
OPS_EACH = 40
EXPECTED_REFUSALS = {"conflict", "invalid", "not_found"}


def _drain(client: WSClient, channel: str, replica: Replica) -> None:
    for frame in client.buffered(lambda f: f.get("op") == "event" and f.get("channel") == channel
                                 and "seq" in f):
        client.buffer.remove(frame)
        replica.apply(frame)


def _random_op(rng: random.Random, replica: Replica, n: int) -> tuple[str, dict[str, Any]]:
    columns = [cid for cid, _ in replica.order()]
    cards = list(replica.cards.values())
    roll = rng.random()
    if not cards or roll < 0.3:
        column = rng.choice(columns)
        data: dict[str, Any] = {"column_id": column, "title": f"card {n}"}
        if rng.random() < 0.6:
            data["index"] = rng.randint(0, len(replica.column_cards(column)))
        return "card.create", data
    card = rng.choice(cards)
    if roll < 0.8:
        column = rng.choice(columns)
        others = [c for c in replica.column_cards(column) if c != card["id"]]
        return "card.move", {"card_id": card["id"], "version": card["version"],
                             "column_id": column, "index": rng.randint(0, len(others))}
    if roll < 0.95:
        return "card.update", {"card_id": card["id"], "version": card["version"],
                               "title": f"renamed {n}", "labels": [f"l{n % 3}"]}
    return "card.delete", {"card_id": card["id"], "version": card["version"]}


async def test_random_concurrent_changes_leave_every_replica_equal_to_the_board(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    await _run(server, [server])


async def test_two_processes_on_one_postgresql_never_put_two_cards_in_one_place(
    live_server: ServerFactory, postgres_db: str, redis_server: Any
) -> None:
    """Processes write one board concurrently: a rank two of them chose at once is refused by
    the unique index and computed again, so nothing is lost and no place is shared."""
    first = live_server(database_url=postgres_db, broadcast_url=redis_server.url)
    second = live_server(database_url=postgres_db, broadcast_url=redis_server.url)
    await _run(first, [first, second])


async def _run(server: LiveServer, servers: list[LiveServer]) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        users: list[User] = [p.owner]
        for _ in range(CLIENTS - 1):
            user = api.register()
            add_member(api, p.owner, int(p.project["id"]), user, "member")
            users.append(user)
        start = get_board(api, p.board_id, p.owner)
    acks: dict[str, int] = {}
    refusals: dict[str, int] = {}
    replicas: list[Replica] = []
    finished: list[int] = []
    heads: list[int] = []
    all_done = anyio.Event()

    async def client(index: int) -> None:
        rng = random.Random(index)
        replica = Replica.of(start)
        replicas.append(replica)
        target = servers[index % len(servers)]
        async with await WSClient.connect(target.ws_url, token=users[index].token,
                                          name=f"c{index}") as ws:
            await ws.join_ok(p.channel, since=replica.seq)
            for n in range(OPS_EACH):
                _drain(ws, p.channel, replica)
                type_, data = _random_op(rng, replica, index * 1000 + n)
                reply: Frame = await ws.send_action(p.channel, type_, data, timeout=30)
                if reply["op"] == "ack":
                    acks[type_] = acks.get(type_, 0) + 1
                else:
                    assert reply.get("code") in EXPECTED_REFUSALS, (type_, data, reply)
                    refusals[reply["code"]] = refusals.get(reply["code"], 0) + 1
                    if reply["code"] == "conflict" and type_ != "card.create":
                        assert reply["data"]["card"]["id"] == data["card_id"], reply
            # Everyone's changes done, every replica catches up to the same, final head.
            finished.append(index)
            if len(finished) == CLIENTS:
                with Api(server.base_url) as api:
                    heads.append(int(get_board(api, p.board_id, p.owner)["seq"]))
                all_done.set()
            await all_done.wait()
            await _settle(ws, p.channel, replica, heads[0])

    async with anyio.create_task_group() as tg:
        for i in range(CLIENTS):
            tg.start_soon(client, i)

    with Api(server.base_url) as api:
        final = get_board(api, p.board_id, p.owner)
    head = int(final["seq"])
    # Every replica catches up to the same head (clients finished at different times).
    async with await WSClient.connect(server.ws_url, token=p.owner.token) as late:
        late_replica = Replica.of(start)
        await late.join_ok(p.channel, since=late_replica.seq)
        await _settle(late, p.channel, late_replica, head)
    assert heads == [head]
    truth = order(final)
    all_ids = [cid for _, ids in truth for cid in ids]
    assert len(all_ids) == len(set(all_ids)), "a card is in two places"
    cards = {c["id"]: c for col in final["columns"] for c in col["cards"]}
    for replica in [*replicas, late_replica]:
        assert replica.order() == truth
        assert {k: (v["title"], v["version"], v["column_id"], v["rank"], v["labels"])
                for k, v in replica.cards.items()} == \
            {k: (v["title"], v["version"], v["column_id"], v["rank"], v["labels"])
             for k, v in cards.items()}
    assert acks.get("card.move", 0) > 20 and acks.get("card.create", 0) > 20, (acks, refusals)
    # The log the burn-up chart sums agrees with the board: no move counted twice or lost.
    with Api(server.base_url) as api:
        figures = api.http.get(f"/api/projects/{p.project['id']}",
                               headers={"Authorization": f"Bearer {p.owner.token}"}
                               ).json()["progress"]
    assert figures["burnup"][-1]["done"] == figures["done"] == len(truth[-1][1])
    assert figures["burnup"][-1]["total"] == figures["total"] == len(all_ids)
    assert head == int(start["seq"]) + sum(acks.values())


async def _settle(ws: WSClient, channel: str, replica: Replica, head: int) -> None:
    """Apply events until the replica is at `head` (some may still be on their way)."""
    _drain(ws, channel, replica)
    while replica.seq < head:
        for frame in await ws.events(channel, 1, timeout=30):
            replica.apply(frame)
    _drain(ws, channel, replica)
    assert replica.seq == head
