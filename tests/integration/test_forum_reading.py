"""Reading state as Discourse users expect, on both databases: a thread page marks what it
showed as read, the room's list counts others' posts since then, the next visit marks "new
since your last visit" and offers a jump to it, and a member's own posts are never unread."""

from __future__ import annotations

import pytest
from support.api import Api, User, assert_error_shape, create_admin, hidden_inputs, unique_name
from support.servers import ServerFactory
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


def _unread(api: Api, room_id: int, user: User) -> dict[str, int]:
    r = api.http.get(f"/api/rooms/{room_id}/threads", headers=user.auth)
    assert r.status_code == 200, r.text
    return {t["title"]: t["unread"] for t in r.json()["threads"]}


async def test_unread_posts_and_the_new_since_marker(live_server: ServerFactory,
                                                     database_url: str) -> None:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        room = api.create_room(admin.token)
        thread = api.create_thread(admin.token, room["id"], title="Reading state")
        reader, writer = api.register(unique_name("rd")), api.register(unique_name("wr"))
        # Never opened: every post is unread; anonymous lists carry no unread at all.
        assert _unread(api, room["id"], reader) == {"Reading state": 1}
        anonymous = api.http.get(f"/api/rooms/{room['id']}/threads").json()["threads"]
        assert "unread" not in anonymous[0]

        with Api(server.base_url) as page:
            page.login_session(reader.username, reader.password)
            first = page.http.get(f"/threads/{thread['id']}").text
            assert "New since your last visit" not in first  # a first visit marks nothing
            assert _unread(api, room["id"], reader) == {"Reading state": 0}
            assert api.get_thread(thread["id"], reader.token)["last_read_seq"] == 1

            async with await WSClient.connect(server.ws_url, token=writer.token) as w, \
                    await WSClient.connect(server.ws_url, token=reader.token) as r:
                channel = f"thread:{thread['id']}"
                for s in (w, r):
                    await s.join_ok(channel)
                await w.post(channel, "First reply")
                await w.post(channel, "Second reply")
                await r.post(channel, "My own reply")
            assert _unread(api, room["id"], reader) == {"Reading state": 2}
            assert _unread(api, room["id"], writer) == {"Reading state": 2}  # admin's + reader's

            second = " ".join(page.http.get(f"/threads/{thread['id']}").text.split())
            assert '<a href="#first-unread">Jump to the first unread post</a> (2 new)' in second
            marker = second.index('id="first-unread"')
            assert second.index("The opening post") < marker < second.index("First reply") \
                < second.index("My own reply")
            assert _unread(api, room["id"], reader) == {"Reading state": 0}
            third = page.http.get(f"/threads/{thread['id']}").text
            assert "New since your last visit" not in third

        # Clients mark what they read; it is never lowered and never past the head.
        mark = f"/api/threads/{thread['id']}/read"
        assert api.http.post(mark, json={"seq": 1}).status_code == 401
        r = api.http.post(mark, json={"seq": 2}, headers=writer.auth)
        assert r.status_code == 200 and r.json() == {"last_read_seq": 2}
        assert api.http.post(mark, json={"seq": 1}, headers=writer.auth).json() == \
            {"last_read_seq": 2}
        for bad in (-1, 10**6, "3", True, None, 2.5):
            r = api.http.post(mark, json={"seq": bad}, headers=writer.auth)
            assert r.status_code == 422, bad
            assert assert_error_shape(r)["field"] == "seq"
        assert api.http.post("/api/threads/2147483647/read", json={"seq": 0},
                             headers=writer.auth).status_code == 404


async def test_reply_to_a_post_and_quote_it(live_server: ServerFactory) -> None:
    server = live_server()
    admin = create_admin(server, display_name="Ada Admin")
    with Api(server.base_url) as api:
        room = api.create_room(admin.token)
        thread = api.create_thread(admin.token, room["id"], body="Line one\nLine two")
        other = api.create_thread(admin.token, room["id"])
        opening = api.get_thread(thread["id"])["posts"][0]
        member = api.register(unique_name("rp"))
        channel = f"thread:{thread['id']}"
        async with await WSClient.connect(server.ws_url, token=member.token) as ws:
            answer = await ws.send_action(channel, "post.create",
                                          {"body": "Agreed", "reply_to": opening["id"]})
            assert answer["op"] == "ack"
            elsewhere = api.get_thread(other["id"])["posts"][0]["id"]
            for bad in (elsewhere, 2147483647, "abc", -1, True):
                refused = await ws.send_action(channel, "post.create",
                                               {"body": "No", "reply_to": bad})
                assert refused["op"] == "error" and refused["code"] == "invalid", bad
        posts = api.get_thread(thread["id"])["posts"]
        assert [p["body"] for p in posts] == ["Line one\nLine two", "Agreed"]
        assert posts[1]["reply_to"] == {"id": opening["id"], "author": {
            "id": admin.id, "username": admin.username, "display_name": "Ada Admin"}}
        assert posts[0]["reply_to"] is None

        with Api(server.base_url) as page:
            page.login_session(member.username, member.password)
            text = page.http.get(f"/threads/{thread['id']}").text
            assert f'<a class="reply-to" href="#post-{opening["id"]}">In reply to Ada Admin</a>' \
                in text
            # Quote fills the form with the post as a block quote that names its author.
            quoting = page.http.get(f"/threads/{thread['id']}",
                                    params={"quote": str(opening["id"])}).text
            assert "&gt; **Ada Admin** wrote:\n&gt;\n&gt; Line one\n&gt; Line two\n" in quoting
            assert f'name="reply_to" value="{opening["id"]}"' in quoting
            # Without JavaScript the reply is a plain POST that lands on the new post.
            form = hidden_inputs(quoting)
            r = page.http.post(f"/threads/{thread['id']}/posts",
                               data={**form, "body": "Quoted and answered"})
            assert r.status_code == 303 and "#post-" in r.headers["location"]
            # A reply to a post of another thread is refused with the text kept.
            r = page.http.post(f"/threads/{thread['id']}/posts",
                               data={**form, "body": "Keep me", "reply_to": str(elsewhere)})
            assert r.status_code == 422 and "Keep me" in r.text
