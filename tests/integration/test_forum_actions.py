"""Forum actions over the socket: who may edit, delete, lock, pin and flag, and what all see."""

from __future__ import annotations

import httpx2
import pytest
from support.api import Api, User, setup_forum, unique_name
from support.servers import ServerFactory
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


async def test_authors_edit_and_delete_their_posts_and_others_may_not(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        author, stranger = api.register(), api.register()
    chan = forum.channel
    async with (
        await WSClient.connect(server.ws_url, token=author.token, name="author") as mine,
        await WSClient.connect(server.ws_url, token=stranger.token, name="stranger") as other,
        await WSClient.connect(server.ws_url, name="watcher") as watcher,
    ):
        for client in (mine, other, watcher):
            await client.join_ok(chan)
        await mine.post(chan, "first *draft*")
        [created] = await watcher.events(chan, 1)
        post_id = created["data"]["id"]

        refused = await other.send_action(chan, "post.edit", {"post_id": post_id, "body": "x"})
        assert (refused["op"], refused["code"]) == ("error", "forbidden")
        refused = await other.send_action(chan, "post.delete", {"post_id": post_id})
        assert (refused["op"], refused["code"]) == ("error", "forbidden")

        edited = await mine.send_action(chan, "post.edit", {"post_id": post_id, "body": "final"})
        assert edited["op"] == "ack"
        [event] = await watcher.events(chan, 1)
        assert event["type"] == "post.edited" and event["seq"] == edited["seq"]
        assert event["data"]["body_html"] == "<p>final</p>" and event["data"]["edited_at"]

        deleted = await mine.send_action(chan, "post.delete", {"post_id": post_id})
        [event] = await watcher.events(chan, 1)
        assert (event["type"], event["seq"], event["data"]["post_id"]) == (
            "post.deleted", deleted["seq"], post_id)
        again = await mine.send_action(chan, "post.delete", {"post_id": post_id})
        assert (again["op"], again["code"]) == ("error", "not_found")

    with Api(server.base_url) as api:
        posts = api.get_thread(forum.thread_id)["posts"]
    [gone] = [p for p in posts if p["id"] == post_id]
    assert gone["deleted"] and gone["body"] == "" and gone["body_html"] == ""


async def test_locking_refuses_members_posts_and_moderators_act_on_any_post(
    live_server: ServerFactory, database_url: str
) -> None:
    """Posting has a one-trip write path per database (rooms/posting.py): both must refuse."""
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        forum = setup_forum(api)  # its admin counts as a moderator
        member = api.register()
    chan = forum.channel
    async with (
        await WSClient.connect(server.ws_url, token=forum.admin.token, name="moderator") as mod,
        await WSClient.connect(server.ws_url, token=member.token, name="member") as mem,
    ):
        await mod.join_ok(chan)
        await mem.join_ok(chan)
        refused = await mem.send_action(chan, "thread.lock", {})
        assert (refused["op"], refused["code"]) == ("error", "forbidden")

        await mem.post(chan, "a member's post")
        [created] = await mod.events(chan, 1)
        lock = await mod.send_action(chan, "thread.lock", {})
        assert lock["op"] == "ack"
        *_, locked = await mem.events(chan, 2)  # its own post, then the lock
        assert locked["type"] == "thread.locked" and locked["data"]["locked"] is True

        refused = await mem.send_action(chan, "post.create", {"body": "too late"})
        assert (refused["op"], refused["code"]) == ("error", "forbidden")
        nowhere = await mem.send_action("thread:987654", "post.create", {"body": "lost"})
        assert (nowhere["op"], nowhere["code"]) == ("error", "not_found")
        assert await mod.post(chan, "moderators may still post") > lock["seq"]

        removed = await mod.send_action(chan, "post.delete", {"post_id": created["data"]["id"]})
        assert removed["op"] == "ack"
        pin = await mod.send_action(chan, "thread.pin", {"pinned": True})
        assert pin["op"] == "ack"
        unlock = await mod.send_action(chan, "thread.lock", {"locked": False})
        assert unlock["op"] == "ack"
        assert await mem.post(chan, "open again") > unlock["seq"]

    with Api(server.base_url) as api:
        thread = api.get_thread(forum.thread_id)
    assert thread["locked"] is False and thread["pinned"] is True


async def test_flags_reach_the_moderators_queue_once_per_member(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        author, reporter = api.register(), api.register()
    chan = forum.channel
    async with (
        await WSClient.connect(server.ws_url, token=author.token, name="author") as writer,
        await WSClient.connect(server.ws_url, token=reporter.token, name="reporter") as flagger,
    ):
        await writer.join_ok(chan)
        await writer.post(chan, "buy cheap watches")
        [created] = await writer.events(chan, 1)
        post_id = created["data"]["id"]
        flagged = await flagger.send_action(chan, "post.flag",
                                            {"post_id": post_id, "reason": "spam"})
        assert flagged["op"] == "ack" and flagged["data"]["flag_id"] > 0
        twice = await flagger.send_action(chan, "post.flag", {"post_id": post_id, "reason": "!"})
        assert (twice["op"], twice["code"]) == ("error", "conflict")

    with httpx2.Client(base_url=server.base_url) as http:
        member_view = http.get("/api/flags", headers={"authorization": f"Bearer {reporter.token}"})
        assert member_view.status_code == 403
        queue = http.get("/api/flags", headers={"authorization": f"Bearer {forum.admin.token}"})
        assert queue.status_code == 200
        [flag] = [f for f in queue.json()["flags"] if f["post_id"] == post_id]
        assert (flag["reason"], flag["reporter"]) == ("spam", reporter.username)
        decided = http.post(f"/api/flags/{flag['id']}", json={"action": "delete"},
                            headers={"authorization": f"Bearer {forum.admin.token}"})
        assert decided.status_code == 200 and decided.json()["resolution"] == "delete"
        queue = http.get("/api/flags", headers={"authorization": f"Bearer {forum.admin.token}"})
        assert all(f["post_id"] != post_id for f in queue.json()["flags"])
        thread = http.get(f"/api/threads/{forum.thread_id}").json()
    assert next(p for p in thread["posts"] if p["id"] == post_id)["deleted"] is True


async def test_a_replayed_post_is_the_post_that_was_delivered_live(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    chan = forum.channel
    async with await WSClient.connect(server.ws_url, token=forum.admin.token) as live:
        base = int((await live.join_ok(chan))["seq"])
        await live.post(chan, "Ünïcode, **bold**, \"quotes\" and <b>tags</b>")
        [delivered] = await live.events(chan, 1)
    async with await WSClient.connect(server.ws_url) as late:
        await late.join_ok(chan, since=base)
        [replayed] = await late.events(chan, 1)
    assert replayed == delivered
    with Api(server.base_url) as api:
        [stored] = [p for p in api.get_thread(forum.thread_id)["posts"]
                    if p["id"] == delivered["data"]["id"]]
    assert stored == delivered["data"]


def test_room_names_are_compared_exactly_not_as_patterns(api: Api, admin: User) -> None:
    """`%` is a name like any other, and `Proc%` is not taken because `Procurement` is."""
    base = unique_name("Room")
    first = api.create_room(admin.token, name=f"{base} percent %")
    assert first["name"].endswith("%")
    again = api.http.post("/api/rooms", json={"name": f"{base} PERCENT %"}, headers=admin.auth)
    assert again.status_code == 409
    other = api.http.post("/api/rooms", json={"name": f"{base} perc%"}, headers=admin.auth)
    assert other.status_code == 201, other.text
