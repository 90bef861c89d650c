"""The rules every notification follows (collab.notifications.notify), on real servers and sockets:
never to the actor, the mention cap, the sender's budget across processes, the rows the page reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from support.api import Api, Forum, User
from support.servers import LiveServer, ServerFactory
from support.webinars import host_webinar
from support.wsclient import WSClient

from collab.settings import normalise_database_url

from .test_boards_helpers import (
    ProjectSetup,
    act,
    add_member,
    get_board,
    ok,
    refused,
    setup_project,
)
from .test_library_forms import Browser
from .test_metrics import scrape, value

pytestmark = pytest.mark.anyio


def _notes(server: LiveServer, user: object, card_id: int) -> int:
    """How many notifications about the card the member's /notifications page lists."""
    browser = Browser(server, user)  # type: ignore[arg-type]
    try:
        page = browser.get("/notifications")
        assert page.status_code == 200
        return page.text.count(f'href="/cards/{card_id}"')
    finally:
        browser.close()


def _project_with(api: Api, members: int) -> tuple[ProjectSetup, list[User]]:
    """A project whose board has an owner and `members` members more."""
    p = setup_project(api)
    people = [api.register() for _ in range(members)]
    for user in people:
        add_member(api, p.owner, int(p.project["id"]), user, "member")
    return p, people


async def test_the_actor_is_never_notified_and_the_mentioned_member_is(
        server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        mate = api.register()
        add_member(api, p.owner, int(p.project["id"]), mate, "member")
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner, \
                await WSClient.connect(server.ws_url, token=mate.token) as inbox:
            await owner.join_ok(f"user:{p.owner.id}")
            await inbox.join_ok(f"user:{mate.id}")
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Self", description=f"Mine, @{p.owner.username}."))["data"]
            await ok(owner, p.channel, "card.comment", card_id=card["id"],
                     body=f"@{p.owner.username} and @{mate.username}: look")
            [note] = await inbox.events(f"user:{mate.id}", 1, type="notification")
            assert note["data"]["kind"] == "mention" and note["data"]["read"] is False
            assert note["data"]["url"] == f"/cards/{card['id']}"
            assert isinstance(note["data"]["id"], int)
            await owner.ping()
            assert not owner.buffered(lambda f: f.get("channel") == f"user:{p.owner.id}")
    assert _notes(server, p.owner, card["id"]) == 0
    assert _notes(server, mate, card["id"]) == 1


async def test_a_text_naming_more_members_than_the_cap_is_refused_and_nothing_is_sent(
        server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p, named = _project_with(api, 11)
        eleven = " ".join(f"@{u.username}" for u in named)
        ten = " ".join(f"@{u.username}" for u in named[:10])
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner, \
                await WSClient.connect(server.ws_url, token=named[0].token) as inbox:
            await inbox.join_ok(f"user:{named[0].id}")
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Crowd"))["data"]
            reply = refused(await act(owner, p.channel, "card.comment", card_id=card["id"],
                                      body=f"Everyone: {eleven}"), "invalid")
            assert "at most 10" in reply["message"] and "11" in reply["message"]
            refused(await act(owner, p.channel, "card.create", column_id=p.columns[0],
                              title="Crowd 2", description=eleven), "invalid")
            refused(await act(owner, p.channel, "card.update", card_id=card["id"], version=1,
                              description=eleven), "invalid")
            # Names that are no member's do not count; ten members may be named.
            await ok(owner, p.channel, "card.comment", card_id=card["id"],
                     body=f"{ten} @nobody-{named[0].username}-x @no-such-member-at-all")
            [note] = await inbox.events(f"user:{named[0].id}", 1, type="notification")
            assert "in a comment on" in note["data"]["text"]
        board = get_board(api, p.board_id, p.owner)
        [cards] = [c["cards"] for c in board["columns"] if c["id"] == p.columns[0]]
        assert [(c["title"], c["comments"], c["description"]) for c in cards] == [
            ("Crowd", 1, "")], "the refused texts wrote nothing"
    assert _notes(server, named[10], card["id"]) == 0
    assert _notes(server, named[0], card["id"]) == 1
    # Without JavaScript the refused comment comes back in its form, with the reason.
    browser = Browser(server, p.owner)
    try:
        page = browser.submit(f"/cards/{card['id']}", f"/cards/{card['id']}/comments",
                              {"body": f"Again {eleven}"})
        assert page.status_code == 422
        assert "at most 10" in page.text and f"Again @{named[0].username}" in page.text
    finally:
        browser.close()


async def test_past_the_senders_budget_the_action_succeeds_and_its_notifications_are_dropped(
        live_server: ServerFactory, database_url: str) -> None:
    # NOTIFICATIONS_PER_SENDER_PER_HOUR (300): thirty comments naming ten members each, sent
    # through two processes on one database, use the budget; the 31st comment is posted and
    # notifies nobody. The count is the database's, so neither process can overspend it.
    first = live_server(database_url=database_url)
    second = live_server(database_url=database_url)
    with Api(first.base_url) as api:
        p, mates = _project_with(api, 10)
        names = " ".join(f"@{m.username}" for m in mates)
        async with await WSClient.connect(first.ws_url, token=p.owner.token) as a, \
                await WSClient.connect(second.ws_url, token=p.owner.token) as b:
            card = (await ok(a, p.channel, "card.create", column_id=p.columns[0],
                             title="Busy"))["data"]
            for n in range(30):
                await ok(a if n % 2 else b, p.channel, "card.comment", card_id=card["id"],
                         body=f"{n}: {names}")
            last = await ok(b, p.channel, "card.comment", card_id=card["id"],
                            body=f"one more: {names}")
            assert last["data"]["id"]
        board = get_board(api, p.board_id, p.owner)
        [counted] = [c["comments"] for col in board["columns"] for c in col["cards"]
                     if c["id"] == card["id"]]
        assert counted == 31, "every comment was posted"
        dropped = [value(scrape(s), "collab_notifications_dropped_total")
                   for s in (first, second)]
        assert dropped == [0, 10]
    for mate in (mates[0], mates[9]):
        assert _notes(first, mate, card["id"]) == 30


async def test_forum_posts_chat_messages_and_questions_keep_to_the_mention_cap(
        server: LiveServer, api: Api, admin: User, forum: Forum) -> None:
    named = [api.register() for _ in range(11)]
    eleven = " ".join(f"@{u.username}" for u in named)
    ten = " ".join(f"@{u.username}" for u in named[:10])
    web = host_webinar(api, admin)
    async with await WSClient.connect(server.ws_url, token=admin.token) as host:
        await host.join_ok(forum.channel)
        await host.join_ok(web.channel)
        for channel, type, extra in ((forum.channel, "post.create", {}),
                                     (web.channel, "chat.send", {}),
                                     (web.channel, "question.ask", {})):
            reply = await host.send_action(channel, type, {"body": f"All: {eleven}", **extra})
            assert reply["op"] == "error" and reply["code"] == "invalid", reply
            assert "at most 10" in reply["message"]
            reply = await host.send_action(channel, type, {"body": f"All: {ten}", **extra})
            assert reply["op"] == "ack", reply


async def test_a_kind_the_member_turned_off_is_not_sent_nor_counted_as_dropped(
        live_server: ServerFactory, database_url: str) -> None:
    # No page writes preferences yet (PROTOCOL.md, /api/me/preferences): the row is written as
    # that page will write it, and `notify` already honours it.
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p, (quiet, keen) = _project_with(api, 2)
        engine = create_async_engine(normalise_database_url(database_url))
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO notification_preferences (user_id, kind, delivery) "
                "VALUES (:user, 'mention', 'off')"), {"user": quiet.id})
        await engine.dispose()
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner:
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Prefs"))["data"]
            await ok(owner, p.channel, "card.comment", card_id=card["id"],
                     body=f"@{quiet.username} @{keen.username}")
    assert _notes(server, quiet, card["id"]) == 0
    assert _notes(server, keen, card["id"]) == 1
    assert value(scrape(server), "collab_notifications_dropped_total") == 0


async def test_two_pages_of_a_member_agree_on_the_unread_count_after_one_marks_read(
        server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p, [mate, other] = _project_with(api, 2)
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner, \
                await WSClient.connect(server.ws_url, token=mate.token) as first, \
                await WSClient.connect(server.ws_url, token=mate.token) as second:
            for page in (first, second):
                await page.join_ok(f"user:{mate.id}")
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Read me"))["data"]
            for n in range(3):
                await ok(owner, p.channel, "card.comment", card_id=card["id"],
                         body=f"@{mate.username} look {n}, and @{other.username}")
            notes = await first.events(f"user:{mate.id}", 3, type="notification")
            await second.events(f"user:{mate.id}", 3, type="notification")
            listed = api.http.get("/api/notifications", headers=mate.auth).json()
            assert listed["unread"] == 3 and [n["read"] for n in listed["results"]] == [False] * 3
            assert listed["results"][0]["actor"]["username"] == p.owner.username
            # Marking one read: both pages hear the new count.
            r = api.http.post("/api/notifications/read", json={"ids": [notes[0]["data"]["id"]]},
                              headers=mate.auth)
            assert r.status_code == 200 and r.json() == {"unread": 2}
            for page in (first, second):
                [heard] = await page.events(f"user:{mate.id}", 1, type="notifications.read")
                assert heard["data"] == {"unread": 2}
            # Another member's ids are left alone; "all" clears the caller's.
            theirs = api.http.get("/api/notifications", headers=other.auth).json()["results"]
            api.http.post("/api/notifications/read", json={"ids": [theirs[0]["id"]]},
                          headers=mate.auth)
            assert api.http.get("/api/notifications?unread=1",
                                headers=other.auth).json()["unread"] == 3
            r = api.http.post("/api/notifications/read", json={"all": True}, headers=mate.auth)
            assert r.json() == {"unread": 0}
            for bad in ({}, {"ids": []}, {"ids": ["x"]}, {"ids": [0]}, {"all": "yes"},
                        {"ids": list(range(1, 502))}):
                r = api.http.post("/api/notifications/read", json=bad, headers=mate.auth)
                assert r.status_code == 422, bad
            assert api.http.get("/api/notifications").status_code == 401
            assert api.http.get("/api/notifications?before=99999999999",
                                headers=mate.auth).status_code == 422
