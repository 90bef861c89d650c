"""A crowd in one webinar with real sockets: everyone gets every message and vote, in one order,
and the vote counts are the number of distinct voters (PROTOCOL.md, Webinars)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.api import Api, User
from support.servers import LiveServer
from support.webinars import host_webinar, members
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio

ATTENDEES = 200
QUESTIONS = 5


def _key(frame: dict[str, Any]) -> tuple[Any, ...]:
    data = frame["data"]
    return frame["seq"], frame["type"], data.get("id"), data.get("question_id"), data.get("votes")


async def test_two_hundred_attendees_get_every_message_and_vote_in_one_order(
    server: LiveServer, api: Api, admin: User
) -> None:
    web = host_webinar(api, admin)
    people = members(server, ATTENDEES)
    clients = await asyncio.gather(*[
        WSClient.connect(server.ws_url, token=p.token, name=f"attendee {i}")
        for i, p in enumerate(people)])
    try:
        joined = await asyncio.gather(*[c.join_ok(web.channel, timeout=30) for c in clients])
        start = max(int(j["seq"]) for j in joined)
        assert start == 0

        asked = [await clients[i].send_action(web.channel, "question.ask",
                                              {"body": f"Question {i} from the crowd?"})
                 for i in range(QUESTIONS)]
        question_ids = [int(a["data"]["id"]) for a in asked]
        assert all(a["op"] == "ack" and a["data"]["state"] == "open" for a in asked)

        async def take_part(i: int, client: WSClient) -> dict[str, Any]:
            # Everyone talks and votes at once: chat and upvotes interleave in the room (one
            # socket reads one answer at a time, so half the crowd votes first).
            chat_first = i % 2 == 0
            first = await client.send_action(
                web.channel, *(("chat.send", {"body": f"message {i}"}) if chat_first else
                               ("question.upvote", {"question_id": question_ids[i % QUESTIONS]})),
                timeout=60)
            second = await client.send_action(
                web.channel, *(("question.upvote", {"question_id": question_ids[i % QUESTIONS]})
                               if chat_first else ("chat.send", {"body": f"message {i}"})),
                timeout=60)
            chat, vote = (first, second) if chat_first else (second, first)
            again = None
            if i % 10 == 0:
                again = await client.send_action(web.channel, "question.upvote",
                                                 {"question_id": question_ids[i % QUESTIONS]},
                                                 timeout=60)
            return {"chat": chat, "vote": vote, "again": again}

        results = await asyncio.gather(*[take_part(i, c) for i, c in enumerate(clients)])
        for r in results:
            assert r["chat"]["op"] == "ack", r
            assert r["vote"]["op"] == "ack", r
            assert isinstance(r["chat"]["data"]["id"], int)
        seconds = [r["again"] for r in results if r["again"] is not None]
        assert len(seconds) == ATTENDEES // 10
        assert all(s["op"] == "error" and s["code"] == "conflict" for s in seconds), seconds

        # Every attendee: every event, gapless, in the same order as everyone else.
        total = QUESTIONS + 2 * ATTENDEES
        first: list[tuple[Any, ...]] | None = None
        for client in clients:
            events = await client.events(web.channel, total, timeout=60)
            keys = [_key(e) for e in events]
            assert [k[0] for k in keys] == list(range(1, total + 1)), client.name
            if first is None:
                first = keys
            assert keys == first, f"{client.name} saw another order"
        assert first is not None

        chats = {k[2] for k in first if k[1] == "chat.message"}
        assert chats == {int(r["chat"]["data"]["id"]) for r in results}
        votes: dict[int, list[int]] = {}
        for k in first:
            if k[1] == "question.voted":
                votes.setdefault(k[3], []).append(k[4])
        # Each question's count went up by one per distinct voter, and ends at that number.
        voters = ATTENDEES // QUESTIONS
        for qid in question_ids:
            assert votes[qid] == list(range(1, voters + 1))
        room = api.http.get(f"/api/webinars/{web.id}").json()
        assert {q["id"]: q["votes"] for q in room["questions"]} == dict.fromkeys(question_ids,
                                                                                 voters)
        assert room["seq"] == total

        # Nothing more was fanned out for the refused second upvotes.
        await clients[0].send_action(web.channel, "chat.send", {"body": "the end"})
        for client in clients[:20]:
            [last] = await client.events(web.channel, 1, timeout=30)
            assert (last["seq"], last["type"]) == (total + 1, "chat.message")
    finally:
        await asyncio.gather(*[c.close() for c in clients], return_exceptions=True)
