"""The live room over `/ws`: who may do what, mutes, slow mode, premoderation, polls, bad input
(PROTOCOL.md, Webinars; docs/protocol.md, "Webinars")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.api import Api, User
from support.servers import LiveServer
from support.webinars import Webinar, at, give_roles, host_webinar, members
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def room(server: LiveServer, api: Api, admin: User) -> AsyncIterator[dict[str, Any]]:
    """A live webinar hosted by the admin, three members and an anonymous viewer, all joined."""
    web = host_webinar(api, admin)
    people = members(server, 3)
    host = await WSClient.connect(server.ws_url, token=admin.token, name="host")
    sockets = [await WSClient.connect(server.ws_url, token=p.token, name=f"member {i}")
               for i, p in enumerate(people)]
    anon = await WSClient.connect(server.ws_url, name="anonymous")
    for s in [host, *sockets, anon]:
        await s.join_ok(web.channel)
    try:
        yield {"web": web, "host": host, "members": sockets, "people": people, "anon": anon,
               "url": server.ws_url}
    finally:
        for s in [host, *sockets, anon]:
            await s.close()


async def ok(client: WSClient, web: Webinar, type: str, data: dict[str, Any]) -> dict[str, Any]:
    reply = await client.send_action(web.channel, type, data)
    assert reply["op"] == "ack", f"{type} {data} answered {reply}"
    return reply


async def refused(client: WSClient, web: Webinar, type: str, data: Any, code: str) -> str:
    reply = await client.send_action(web.channel, type, data)
    assert reply["op"] == "error" and reply["code"] == code, f"{type} {data!r} answered {reply}"
    return str(reply["message"])


async def next_event(client: WSClient, web: Webinar) -> dict[str, Any]:
    [event] = await client.events(web.channel, 1)
    return event


async def test_anonymous_viewer_reads_but_cannot_send(room: dict[str, Any]) -> None:
    web, anon, member = room["web"], room["anon"], room["members"][0]
    sent = await ok(member, web, "chat.send", {"body": "Hello, everyone"})
    event = await next_event(anon, web)
    assert (event["type"], event["seq"], event["data"]["body"]) == \
        ("chat.message", sent["seq"], "Hello, everyone")
    assert event["data"]["id"] == sent["data"]["id"]
    for type, data in [("chat.send", {"body": "me too"}), ("question.ask", {"body": "Why?"}),
                       ("question.upvote", {"question_id": 1}),
                       ("poll.vote", {"poll_id": 1, "option": 0})]:
        await refused(anon, web, type, data, "unauthenticated")
    # Nothing of theirs reached the room: the next event is the member's.
    again = await ok(member, web, "chat.send", {"body": "still here"})
    assert (await next_event(anon, web))["seq"] == again["seq"]


async def test_upvotes_count_once_per_member(room: dict[str, Any]) -> None:
    web, host, (a, b, _), anon = room["web"], room["host"], room["members"], room["anon"]
    asked = await ok(a, web, "question.ask", {"body": "What about small councils?"})
    qid = asked["data"]["id"]
    assert asked["data"]["state"] == "open"
    await ok(b, web, "question.upvote", {"question_id": qid})
    message = await refused(b, web, "question.upvote", {"question_id": qid}, "conflict")
    assert "already" in message
    await ok(a, web, "question.upvote", {"question_id": qid})
    events = await anon.events(web.channel, 3)
    assert [(e["type"], e["data"].get("votes")) for e in events] == [
        ("question.asked", 0), ("question.voted", 1), ("question.voted", 2)]
    await ok(host, web, "question.answer", {"question_id": qid})
    answered = await next_event(anon, web)
    assert (answered["type"], answered["data"]["question_id"]) == ("question.answered", qid)
    # An answered question takes no more votes; answering twice is refused.
    await refused(room["members"][2], web, "question.upvote", {"question_id": qid}, "conflict")
    await refused(host, web, "question.answer", {"question_id": qid}, "conflict")


async def test_muted_member_is_forbidden_and_nothing_of_theirs_is_fanned_out(
    room: dict[str, Any], api: Api
) -> None:
    web, host, (a, b, _), anon = room["web"], room["host"], room["members"], room["anon"]
    muted_user = room["people"][0]
    asked = await ok(b, web, "question.ask", {"body": "A question before the mute"})
    poll = await ok(host, web, "poll.create", {"question": "Useful?", "options": ["Yes", "No"]})
    await anon.events(web.channel, 2)
    muted = await ok(host, web, "member.mute", {"user_id": muted_user.id})
    event = await next_event(anon, web)
    assert (event["type"], event["seq"], event["data"]["user_id"]) == \
        ("member.muted", muted["seq"], muted_user.id)
    for type, data in [("chat.send", {"body": "let me speak"}),
                       ("question.ask", {"body": "why mute me?"}),
                       ("question.upvote", {"question_id": asked["data"]["id"]}),
                       ("poll.vote", {"poll_id": poll["data"]["id"], "option": 0})]:
        assert "muted" in await refused(a, web, type, data, "forbidden")
    await refused(host, web, "member.mute", {"user_id": muted_user.id}, "conflict")
    # Nothing of the muted member's was fanned out: the next event anyone sees is b's.
    after = await ok(b, web, "chat.send", {"body": "after the mute"})
    event = await next_event(anon, web)
    assert (event["seq"], event["data"]["body"]) == (after["seq"], "after the mute")
    # The host and moderators cannot be muted; nor can one mute oneself.
    await refused(host, web, "member.mute", {"user_id": web.host.id}, "invalid")
    # A new socket of the muted member is muted too (the grant is read at join).
    again = await WSClient.connect(room["url"], token=muted_user.token)
    try:
        await again.join_ok(web.channel)
        await refused(again, web, "chat.send", {"body": "from another tab"}, "forbidden")
    finally:
        await again.close()
    room_view = api.http.get(f"/api/webinars/{web.id}",
                             headers={"Authorization": f"Bearer {muted_user.token}"}).json()
    assert room_view["muted"] is True


async def test_slow_mode_refuses_a_second_message_and_fans_nothing_out(
    room: dict[str, Any],
) -> None:
    web, host, (a, b, _), anon = room["web"], room["host"], room["members"], room["anon"]
    await refused(a, web, "chat.slow_mode", {"seconds": 60}, "forbidden")
    set_ = await ok(host, web, "chat.slow_mode", {"seconds": 60})
    event = await next_event(anon, web)
    assert (event["type"], event["seq"], event["data"]) == \
        ("chat.slow_mode", set_["seq"], {"seconds": 60})
    first = await ok(a, web, "chat.send", {"body": "first"})
    message = await refused(a, web, "chat.send", {"body": "second, too soon"}, "rate_limited")
    assert "slow mode" in message
    # Another member is not held back by a's message; questions are not chat.
    other = await ok(b, web, "chat.send", {"body": "b speaks"})
    await ok(a, web, "question.ask", {"body": "Questions are not slowed down?"})
    events = await anon.events(web.channel, 3)
    assert [e["seq"] for e in events] == [first["seq"], other["seq"], other["seq"] + 1]
    assert [e["data"].get("body") for e in events[:2]] == ["first", "b speaks"]
    # Off again: a may speak at once.
    await ok(host, web, "chat.slow_mode", {"seconds": 0})
    await ok(a, web, "chat.send", {"body": "free again"})
    await refused(host, web, "chat.slow_mode", {"seconds": -1}, "invalid")
    await refused(host, web, "chat.slow_mode", {"seconds": 10**9}, "invalid")


async def test_premoderated_questions_reach_the_room_only_once_approved(
    server: LiveServer, api: Api, admin: User
) -> None:
    web = host_webinar(api, admin, premoderation=True)
    asker_user, other_user = members(server, 2)
    host = await WSClient.connect(server.ws_url, token=admin.token, name="host")
    asker = await WSClient.connect(server.ws_url, token=asker_user.token, name="asker")
    other = await WSClient.connect(server.ws_url, token=other_user.token, name="other")
    try:
        for s in (host, asker, other):
            await s.join_ok(web.channel)
        await host.join_ok(web.backstage)
        assert (await other.join(web.backstage))["code"] == "forbidden"
        held = await ok(asker, web, "question.ask", {"body": "Is this held?"})
        assert held["data"]["state"] == "pending" and "seq" not in held
        qid = held["data"]["id"]
        [queued] = await host.events(web.backstage, 1)
        assert (queued["type"], queued["data"]["id"], queued["data"]["state"]) == \
            ("question.submitted", qid, "pending")
        # The asker sees it as pending; others do not see it at all.
        def questions(user: User) -> list[dict[str, Any]]:
            body = api.http.get(f"/api/webinars/{web.id}", headers=user.auth).json()
            return list(body["questions"])
        assert [(q["id"], q["state"]) for q in questions(asker_user)] == [(qid, "pending")]
        assert questions(other_user) == []
        await refused(other, web, "question.upvote", {"question_id": qid}, "not_found")
        await refused(asker, web, "question.approve", {"question_id": qid}, "forbidden")
        approved = await ok(host, web, "question.approve", {"question_id": qid})
        event = await next_event(other, web)
        assert (event["type"], event["seq"], event["data"]["body"]) == \
            ("question.asked", approved["seq"], "Is this held?")
        [done] = await host.events(web.backstage, 1)
        assert done["type"] == "question.approved"
        await refused(host, web, "question.approve", {"question_id": qid}, "conflict")
        await ok(other, web, "question.upvote", {"question_id": qid})
        # Premoderation off: questions go straight out.
        await ok(host, web, "question.premoderation", {"enabled": False})
        direct = await ok(other, web, "question.ask", {"body": "Straight out?"})
        assert direct["data"]["state"] == "open" and isinstance(direct["seq"], int)
        # A dismissed pending question is gone for everyone, and from replay.
        await ok(host, web, "question.premoderation", {"enabled": True})
        gone = await ok(asker, web, "question.ask", {"body": "Dismiss me"})
        await ok(host, web, "question.dismiss", {"question_id": gone["data"]["id"]})
        assert gone["data"]["id"] not in [q["id"] for q in questions(asker_user)]
        late = await WSClient.connect(server.ws_url, token=admin.token, name="late host")
        try:
            joined = await late.join_ok(web.backstage, since=0)
            replayed = [f for f in late.buffered() if f.get("op") == "event"] or []
            bodies = [f["data"].get("body") for f in replayed]
            assert "Dismiss me" not in bodies and joined["seq"] >= 3
        finally:
            await late.close()
    finally:
        for s in (host, asker, other):
            await s.close()


async def test_only_the_host_and_moderators_moderate(
    room: dict[str, Any], api: Api, admin: User
) -> None:
    web, host, (a, b, c), anon = room["web"], room["host"], room["members"], room["anon"]
    said = await ok(a, web, "chat.send", {"body": "something rude"})
    asked = await ok(a, web, "question.ask", {"body": "A question"})
    qid, mid = asked["data"]["id"], said["data"]["id"]
    for type, data in [("chat.delete", {"message_id": mid}), ("question.answer", {"question_id": qid}),
                       ("question.dismiss", {"question_id": qid}),
                       ("member.mute", {"user_id": room["people"][2].id}),
                       ("poll.create", {"question": "Q?", "options": ["a", "b"]}),
                       ("question.premoderation", {"enabled": True})]:
        await refused(b, web, type, data, "forbidden")
    # A site moderator moderates any webinar, but answering and polls are the host's.
    give_roles(api, admin, room["people"][2], ["moderator"])
    await refused(c, web, "question.answer", {"question_id": qid}, "forbidden")
    deleted = await ok(c, web, "chat.delete", {"message_id": mid})
    await refused(c, web, "chat.delete", {"message_id": mid}, "not_found")
    events = await anon.events(web.channel, 3)
    assert [e["type"] for e in events] == ["chat.message", "question.asked", "chat.deleted"]
    assert events[2]["seq"] == deleted["seq"] and events[2]["data"]["message_id"] == mid
    # Replay shows the message as deleted, never its text.
    late = await WSClient.connect(room["url"])
    try:
        await late.join_ok(web.channel, since=0)
        replayed = await late.events(web.channel, 3)
        assert replayed[0]["data"]["body"] == "" and replayed[0]["data"]["deleted"] is True
    finally:
        await late.close()
    chat = api.http.get(f"/api/webinars/{web.id}/messages").json()["messages"]
    assert [(m["id"], m["body"], m["deleted"]) for m in chat] == [(mid, "", True)]
    await ok(host, web, "question.dismiss", {"question_id": qid})
    dismissed = await next_event(anon, web)
    assert dismissed["type"] == "question.dismissed"
    assert api.http.get(f"/api/webinars/{web.id}").json()["questions"] == []


async def test_polls_count_one_vote_per_member_and_a_second_moves_it(
    room: dict[str, Any], api: Api
) -> None:
    web, host, (a, b, c), anon = room["web"], room["host"], room["members"], room["anon"]
    created = await ok(host, web, "poll.create",
                       {"question": "Which lot?", "options": ["Discovery", "Build", "Support"]})
    pid = created["data"]["id"]
    event = await next_event(anon, web)
    assert (event["type"], event["data"]["options"], event["data"]["counts"]) == \
        ("poll.created", ["Discovery", "Build", "Support"], [0, 0, 0])
    await ok(a, web, "poll.vote", {"poll_id": pid, "option": 1})
    await ok(b, web, "poll.vote", {"poll_id": pid, "option": 1})
    await ok(a, web, "poll.vote", {"poll_id": pid, "option": 2})  # a changes their mind
    await refused(c, web, "poll.vote", {"poll_id": pid, "option": 3}, "not_found")
    await refused(c, web, "poll.vote", {"poll_id": pid, "option": 6}, "invalid")
    results = await anon.events(web.channel, 3)
    assert [e["data"]["counts"] for e in results] == [[0, 1, 0], [0, 2, 0], [0, 1, 1]]
    closed = await ok(host, web, "poll.close", {"poll_id": pid})
    event = await next_event(anon, web)
    assert (event["type"], event["seq"], event["data"]["counts"]) == \
        ("poll.closed", closed["seq"], [0, 1, 1])
    await refused(c, web, "poll.vote", {"poll_id": pid, "option": 0}, "conflict")
    await refused(host, web, "poll.close", {"poll_id": pid}, "conflict")
    [poll] = api.http.get(f"/api/webinars/{web.id}").json()["polls"]
    assert (poll["closed"], poll["counts"]) == (True, [0, 1, 1])


async def test_bad_input_gets_clear_errors_and_loses_nothing(
    room: dict[str, Any], server: LiveServer, api: Api, admin: User
) -> None:
    web, host, (a, b, _), anon = room["web"], room["host"], room["members"], room["anon"]
    other = host_webinar(api, admin)
    other_host = await WSClient.connect(server.ws_url, token=admin.token, name="other room")
    try:
        foreign = await ok(other_host, other, "question.ask", {"body": "In another webinar"})
        foreign_poll = await ok(other_host, other, "poll.create",
                                {"question": "Elsewhere?", "options": ["x", "y"]})
    finally:
        await other_host.close()
    asked = await ok(a, web, "question.ask", {"body": "A real question"})
    for type, data, code in [
        ("chat.send", {"body": ""}, "invalid"),
        ("chat.send", {"body": "   "}, "invalid"),
        ("chat.send", {"body": "x" * 2001}, "invalid"),
        ("chat.send", {"body": "nul \x00 here"}, "invalid"),
        ("chat.send", {"body": 12}, "invalid"),
        ("chat.send", {}, "invalid"),
        ("question.ask", {"body": ""}, "invalid"),
        ("question.ask", {"body": "q" * 1001}, "invalid"),
        ("question.upvote", {"question_id": 999_999_999}, "not_found"),
        ("question.upvote", {"question_id": foreign["data"]["id"]}, "not_found"),
        ("question.upvote", {"question_id": "abc"}, "invalid"),
        ("question.upvote", {"question_id": 2**63}, "not_found"),  # names nothing
        ("question.upvote", {"question_id": -1}, "invalid"),
        ("poll.vote", {"poll_id": foreign_poll["data"]["id"], "option": 0}, "not_found"),
        ("poll.vote", {"poll_id": 1, "option": "first"}, "invalid"),
        ("chat.shout", {"body": "hi"}, "invalid"),
    ]:
        await refused(b, web, type, data, code)
    for options in (["only one"], ["1", "2", "3", "4", "5", "6", "7"], [], ["same", "same"],
                    ["ok", ""], ["ok", "x" * 101], ["ok", "nul\x00"], "not a list"):
        await refused(host, web, "poll.create", {"question": "Q?", "options": options},
                      "invalid")
    await refused(host, web, "poll.create", {"question": "", "options": ["a", "b"]}, "invalid")
    await refused(host, web, "question.answer", {"question_id": foreign["data"]["id"]},
                  "not_found")
    await refused(host, web, "chat.delete", {"message_id": 10**12}, "not_found")
    # Nothing was lost or half-done: the room's next events are exactly the good sends.
    good = await ok(b, web, "chat.send", {"body": "ok <script>alert(1)</script>"})
    events = await anon.events(web.channel, 2)
    assert [e["seq"] for e in events] == [asked["seq"], good["seq"]]
    assert events[1]["data"]["body"] == "ok <script>alert(1)</script>"
    assert good["seq"] == asked["seq"] + 1


async def test_after_the_event_the_room_is_a_readable_record(
    room: dict[str, Any], api: Api, admin: User
) -> None:
    web, host, (a, b, _) = room["web"], room["host"], room["members"]
    said = await ok(a, web, "chat.send", {"body": "Thanks for the session"})
    asked = await ok(b, web, "question.ask", {"body": "Slides?"})
    await ok(host, web, "question.answer", {"question_id": asked["data"]["id"]})
    r = api.http.patch(f"/api/webinars/{web.id}", headers=admin.auth,
                       json={"starts_at": at(-120), "ends_at": at(-1)})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "past"
    assert "ended" in await refused(a, web, "chat.send", {"body": "too late"}, "forbidden")
    await refused(b, web, "question.ask", {"body": "too late?"}, "forbidden")
    await refused(host, web, "poll.create", {"question": "Late?", "options": ["a", "b"]},
                  "forbidden")
    record = api.http.get(f"/api/webinars/{web.id}").json()
    assert [(q["body"], q["state"]) for q in record["questions"]] == [("Slides?", "answered")]
    chat = api.http.get(f"/api/webinars/{web.id}/messages").json()["messages"]
    assert [(m["id"], m["body"]) for m in chat] == [(said["data"]["id"], "Thanks for the session")]
    page = api.http.get(f"/webinars/{web.id}/live")
    assert page.status_code == 200 and "Thanks for the session" in page.text
    assert "Slides?" in page.text and "ws-connect" not in page.text.split('id="room"')[1][:800]
    past = api.http.get("/api/webinars?when=past&limit=200").json()["webinars"]
    assert web.id in [w["id"] for w in past]
    assert web.id not in [w["id"] for w in
                          api.http.get("/api/webinars?limit=200").json()["webinars"]]
