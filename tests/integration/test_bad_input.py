"""Bad input over /ws gets the right `error` code, and neither the offending connection (unless the
protocol says it is closed) nor any other client is disturbed (PROTOCOL.md, "The WebSocket")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.api import Api, Forum, User, setup_forum
from support.servers import LiveServer, ServerFactory
from support.wsclient import Frame, WSClient
from websockets.exceptions import InvalidStatus

pytestmark = pytest.mark.anyio

ERROR_CODES = {
    "bad_frame", "unknown_op", "not_found", "forbidden", "unauthenticated", "invalid",
    "conflict", "rate_limited", "too_large",
}


@dataclass
class Bystanders:
    """A writer and a witness on the same channel as the misbehaving client."""

    channel: str
    writer: WSClient
    witness: WSClient

    async def still_served(self, note: str) -> None:
        """The witness keeps receiving the channel's events after `note`."""
        seq = await self.writer.post(self.channel, f"still here after {note}")
        # Earlier posts (by the client under test) may come first; this one must follow.
        got = await self.witness.events_until(self.channel, seq)
        assert got[-1]["seq"] == seq, f"after {note}: witness got {[e['seq'] for e in got]}"


async def _bystanders(server: LiveServer, admin: User, channel: str) -> Bystanders:
    writer = await WSClient.connect(server.ws_url, token=admin.token, name="writer")
    witness = await WSClient.connect(server.ws_url, name="witness")
    await writer.join_ok(channel)
    await witness.join_ok(channel)
    return Bystanders(channel, writer, witness)


@pytest.fixture
async def bystanders(forum: Forum) -> AsyncIterator[Bystanders]:
    b = await _bystanders(forum.server, forum.admin, forum.channel)
    try:
        yield b
    finally:
        await b.writer.close()
        await b.witness.close()


@pytest.fixture
def member(forum: Forum) -> User:
    return forum.api.register()


@pytest.fixture
async def client(forum: Forum, member: User) -> AsyncIterator[WSClient]:
    """The misbehaving client: a logged-in member joined to the forum thread."""
    c = await WSClient.connect(forum.server.ws_url, token=member.token, name="bad client")
    await c.join_ok(forum.channel)
    try:
        yield c
    finally:
        await c.close()


def assert_error(frame: Frame, *codes: str, ref: str | None = None) -> None:
    assert frame.get("op") == "error", f"expected an error {codes}, got {frame}"
    assert frame.get("code") in codes, f"expected {codes}, got {frame}"
    assert isinstance(frame.get("message"), str) and frame["message"], frame
    if ref is not None:
        assert frame.get("ref") == ref, f"error should echo ref {ref}: {frame}"


async def next_error(client: WSClient) -> Frame:
    return await client.wait_for(lambda f: f.get("op") == "error", what="an error frame")


async def test_non_json_text_gets_bad_frame_and_socket_stays_open(
    client: WSClient, bystanders: Bystanders
) -> None:
    await client.send_raw("this is { not json")
    assert_error(await next_error(client), "bad_frame")
    await client.ping()
    await bystanders.still_served("non-JSON")


@pytest.mark.parametrize("payload", ["[1, 2, 3]", '"join"', "42", "null", "true"])
async def test_json_that_is_not_an_object_gets_bad_frame(
    client: WSClient, bystanders: Bystanders, payload: str
) -> None:
    await client.send_raw(payload)
    assert_error(await next_error(client), "bad_frame")
    await client.ping()
    await bystanders.still_served(payload)


async def test_frame_over_size_limit_gets_too_large_and_socket_stays_open(
    client: WSClient, bystanders: Bystanders
) -> None:
    body = "x" * 70_000  # the default WS_MAX_FRAME_BYTES is 65536
    frame = {"op": "send", "ref": "big", "channel": bystanders.channel, "type": "post.create",
             "data": {"body": body}}
    await client.send(frame)
    assert_error(await next_error(client), "too_large")
    await client.ping()
    await bystanders.still_served("an oversized frame")


async def test_frame_over_a_configured_size_limit_gets_too_large(live_server: ServerFactory) -> None:
    server = live_server(env={"WS_MAX_FRAME_BYTES": "1024"})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    c = await WSClient.connect(server.ws_url, token=forum.admin.token, name="client")
    try:
        await c.join_ok(forum.channel)
        small = await c.send_action(forum.channel, "post.create", {"body": "y" * 500})
        assert small["op"] == "ack", small
        await c.send({"op": "send", "ref": "big", "channel": forum.channel,
                      "type": "post.create", "data": {"body": "y" * 2000}})
        assert_error(await next_error(c), "too_large")
        await c.ping()
    finally:
        await c.close()


async def test_unknown_op_gets_unknown_op_with_its_ref(
    client: WSClient, bystanders: Bystanders
) -> None:
    reply = await client.request("subscribe", channel=bystanders.channel)
    assert_error(reply, "unknown_op")
    await client.ping()
    await bystanders.still_served("an unknown op")


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("post.create", {"body": 5}),
        ("post.create", {"body": None}),
        ("post.create", {"body": ["a", "list"]}),
        ("post.create", {}),
        ("post.edit", {"post_id": "one", "body": "text"}),
        ("post.delete", {"post_id": {"id": 1}}),
    ],
)
async def test_send_with_wrong_field_types_gets_invalid(
    client: WSClient, bystanders: Bystanders, type_: str, data: dict[str, Any]
) -> None:
    reply = await client.send_action(bystanders.channel, type_, data)
    assert_error(reply, "invalid")
    await client.ping()
    await bystanders.still_served(f"{type_} {data}")


@pytest.mark.parametrize("data", [["not", "an", "object"], "text", 7])
async def test_send_whose_data_is_not_an_object_gets_invalid(
    client: WSClient, bystanders: Bystanders, data: Any
) -> None:
    reply = await client.request("send", channel=bystanders.channel, type="post.create",
                                 data=data)
    assert_error(reply, "invalid", "bad_frame")
    await client.ping()
    await bystanders.still_served(f"data={data!r}")


async def test_join_of_a_thread_that_does_not_exist_gets_not_found(
    client: WSClient, bystanders: Bystanders
) -> None:
    reply = await client.join("thread:999999")
    assert_error(reply, "not_found")
    await client.ping()
    await bystanders.still_served("joining a missing thread")


async def test_only_the_member_may_join_their_user_channel(
    forum: Forum, client: WSClient, member: User, bystanders: Bystanders
) -> None:
    other = forum.api.register()
    assert_error(await client.join(f"user:{other.id}"), "forbidden")
    await client.join_ok(f"user:{member.id}")
    anonymous = await WSClient.connect(forum.server.ws_url, name="anonymous")
    try:
        # docs/protocol.md: anonymous → unauthenticated, another member → forbidden.
        assert_error(await anonymous.join(f"user:{member.id}"), "unauthenticated")
        await anonymous.ping()
    finally:
        await anonymous.close()
    await bystanders.still_served("joining another member's channel")


async def test_members_only_room_refuses_anonymous_readers(
    forum: Forum, member: User, bystanders: Bystanders
) -> None:
    room = forum.api.create_room(forum.admin.token, visibility="members")
    thread = forum.api.create_thread(forum.admin.token, int(room["id"]))
    anonymous = await WSClient.connect(forum.server.ws_url, name="anonymous")
    signed_in = await WSClient.connect(forum.server.ws_url, token=member.token, name="member")
    try:
        for channel in (f"room:{room['id']}", f"thread:{thread['id']}"):
            assert_error(await anonymous.join(channel), "unauthenticated")
            await signed_in.join_ok(channel)
        await anonymous.ping()
    finally:
        await anonymous.close()
        await signed_in.close()
    await bystanders.still_served("an anonymous join of a members-only room")


async def test_post_to_a_locked_thread_is_refused(forum: Forum, member: User) -> None:
    # A thread of its own, so locking it does not disturb other tests' threads.
    thread = forum.api.create_thread(forum.admin.token, forum.room_id)
    channel = f"thread:{thread['id']}"
    moderator = await WSClient.connect(forum.server.ws_url, token=forum.admin.token, name="admin")
    poster = await WSClient.connect(forum.server.ws_url, token=member.token, name="member")
    try:
        await moderator.join_ok(channel)
        await poster.join_ok(channel)
        assert await poster.post(channel, "before the lock")
        lock = await moderator.send_action(channel, "thread.lock", {})
        assert lock["op"] == "ack", lock
        locked = await poster.wait_for(
            lambda f: f.get("op") == "event" and f.get("type") == "thread.locked",
            what="the thread.locked event",
        )
        assert locked["channel"] == channel
        reply = await poster.send_action(channel, "post.create", {"body": "after the lock"})
        assert_error(reply, "forbidden")  # docs/protocol.md: locked thread → forbidden
        await poster.ping()
        # The thread still works as a channel: the moderator is not locked out of it.
        assert (await moderator.ping())["op"] == "pong"
    finally:
        await moderator.close()
        await poster.close()


async def test_send_without_a_token_gets_unauthenticated(
    forum: Forum, bystanders: Bystanders
) -> None:
    anonymous = await WSClient.connect(forum.server.ws_url, name="anonymous")
    try:
        await anonymous.join_ok(forum.channel)  # a public thread can be read without an account
        reply = await anonymous.send_action(forum.channel, "post.create", {"body": "hi"})
        assert_error(reply, "unauthenticated")
        await anonymous.ping()
    finally:
        await anonymous.close()
    await bystanders.still_served("an anonymous send")


async def test_an_invalid_token_refuses_the_upgrade(forum: Forum) -> None:
    """docs/protocol.md: an invalid token is refused before the handshake completes (403)."""
    for via in ("query", "header"):
        with pytest.raises(InvalidStatus) as refused:
            c = await WSClient.connect(forum.server.ws_url, token="not-a-real-token", via=via)
            await c.close()
        assert refused.value.response.status_code == 403, (via, refused.value)


async def test_malformed_frames_never_crash_the_connection(
    client: WSClient, bystanders: Bystanders
) -> None:
    cases: list[Any] = [
        {"op": "join"},
        {"op": "join", "channel": 5},
        {"op": "join", "channel": "thread"},
        {"op": "join", "channel": "thread:abc"},
        {"op": "join", "channel": "thread:-1"},
        {"op": "join", "channel": "nosuchkind:1"},
        {"op": "join", "channel": bystanders.channel, "since": "yesterday"},
        {"op": "join", "channel": bystanders.channel, "since": -5},
        {"op": "leave"},
        {"op": "send", "channel": bystanders.channel},
        {"op": "send", "channel": bystanders.channel, "type": 12, "data": {}},
        {"op": "send", "channel": bystanders.channel, "type": "no.such.action", "data": {}},
        {"op": None},
        {"op": ["join"]},
        {"ref": "no-op"},
        {"op": "join", "channel": "thread:" + "9" * 400},
    ]
    for case in cases:
        await client.send(case)
        reply = await next_error(client)
        assert reply["code"] in ERROR_CODES, f"{case} -> {reply}"
        await client.ping()
    # The socket still does real work.
    seq = await client.post(bystanders.channel, "I survived")
    assert isinstance(seq, int)
    await bystanders.still_served("a batch of malformed frames")


async def test_binary_frames_are_read_as_utf8_text(
    forum: Forum, member: User, bystanders: Bystanders
) -> None:
    """docs/protocol.md: binary frames are read as UTF-8 text; anything else is `bad_frame`."""
    c = await WSClient.connect(forum.server.ws_url, token=member.token, name="binary sender")
    try:
        await c.send_raw(json.dumps({"op": "ping", "ref": "bin"}).encode())
        assert await c.recv() == {"op": "pong", "ref": "bin"}
        await c.send_raw(b"\xff\xfe not utf-8 \x80")
        assert_error(await next_error(c), "bad_frame")
        await c.ping()
    finally:
        await c.close()
    await bystanders.still_served("binary frames")


async def test_a_bad_post_body_is_invalid(client: WSClient, bystanders: Bystanders) -> None:
    """docs/protocol.md: a post body is 1–20,000 characters."""
    for body in ("", "z" * 20_001):
        reply = await client.send_action(bystanders.channel, "post.create", {"body": body})
        assert_error(reply, "invalid")
    assert await client.post(bystanders.channel, "z" * 20_000)
    await bystanders.still_served("bad post bodies")


async def test_too_many_bad_frames_close_the_socket_with_1008(live_server: ServerFactory) -> None:
    server = live_server(env={"WS_BAD_FRAMES_PER_MINUTE": "5"})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    by = await _bystanders(server, forum.admin, forum.channel)
    bad = await WSClient.connect(server.ws_url, name="bad client")
    try:
        await bad.join_ok(forum.channel)
        # Up to the limit: errors, and the socket stays open.
        for _ in range(5):
            await bad.send_raw("garbage")
            assert_error(await next_error(bad), "bad_frame")
        await bad.ping()
        # Past it: closed with 1008. Keep sending until the server closes (bounded).
        for _ in range(20):
            try:
                await bad.send_raw("garbage")
            except Exception:  # the server may close while we send
                break
        assert await bad.closed_code() == 1008
        await by.still_served("a client closed for bad frames")
    finally:
        await bad.close()
        await by.writer.close()
        await by.witness.close()


async def test_bursting_sends_past_the_rate_limit_gets_rate_limited(
    live_server: ServerFactory,
) -> None:
    server = live_server(env={"WS_SEND_RATE": "2"})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        member = api.register()
    by = await _bystanders(server, forum.admin, forum.channel)
    burster = await WSClient.connect(server.ws_url, token=member.token, name="burster")
    try:
        await burster.join_ok(forum.channel)
        refs = [f"burst{i}" for i in range(12)]
        for i, ref in enumerate(refs):
            await burster.send({"op": "send", "ref": ref, "channel": forum.channel,
                                "type": "post.create", "data": {"body": f"burst {i}"}})
        replies = [
            await burster.wait_for(lambda f, r=r: f.get("ref") == r, what=f"reply to {r}")
            for r in refs
        ]
        ops = [(r["op"], r.get("code")) for r in replies]
        assert ("ack", None) in ops, ops
        assert ("error", "rate_limited") in ops, ops
        assert set(ops) <= {("ack", None), ("error", "rate_limited")}, ops
        # Rate 2/s with a burst of twice that: at most a handful get through at once.
        assert ops.count(("ack", None)) <= 6, ops
        # The writer (another socket) is not limited by this socket's bucket.
        await by.still_served("a rate-limited burst")
    finally:
        await burster.close()
        await by.writer.close()
        await by.witness.close()


async def test_another_members_channel_is_forbidden_whether_or_not_the_id_exists(
    client: WSClient, bystanders: Bystanders
) -> None:
    # Telling "no such member" from "not yours" would let anyone enumerate member ids.
    assert_error(await client.join("user:2147483000"), "forbidden")
    await bystanders.still_served("joining a user channel that does not exist")


async def test_typing_reaches_the_others_and_not_its_sender(
    forum: Forum, client: WSClient, bystanders: Bystanders
) -> None:
    reply = await client.send_action(forum.channel, "typing")
    assert reply.get("op") == "ack", reply
    await bystanders.witness.wait_for(
        lambda f: f.get("type") == "typing" and f.get("channel") == forum.channel,
        what="the typing event")
    # The sender's own post travels the same channel after its typing: once the post is here,
    # an echoed typing would have come before it.
    seq = await client.post(forum.channel, "after typing")
    await client.events_until(forum.channel, seq)
    assert [f for f in client.history if f.get("type") == "typing"] == []


async def test_a_socket_that_keeps_sending_past_its_rate_is_closed(
    live_server: ServerFactory,
) -> None:
    server = live_server(env={"WS_SEND_RATE": "1", "WS_BAD_FRAMES_PER_MINUTE": "5"})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        member = api.register()
    by = await _bystanders(server, forum.admin, forum.channel)
    burster = await WSClient.connect(server.ws_url, token=member.token, name="burster")
    try:
        await burster.join_ok(forum.channel)
        for i in range(20):
            await burster.send({"op": "send", "ref": f"b{i}", "channel": forum.channel,
                                "type": "post.create", "data": {"body": f"burst {i}"}})
        assert await burster.closed_code() == 1008
        codes = [f.get("code") for f in burster.history if f.get("op") == "error"]
        assert "rate_limited" in codes, burster.history[-10:]
        await by.still_served("a socket closed for sending past its rate")
    finally:
        await burster.close()
        await by.writer.close()
        await by.witness.close()
