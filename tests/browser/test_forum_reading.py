"""Reading the forum as Discourse readers expect: relative times ("just now", the exact time
on hover), and role badges beside the names of moderators, experts and admins, in posts that
arrive live and on the page alike."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from support.api import Api, User, create_admin, unique_name
from support.browser import new_page
from support.servers import LiveServer
from websockets.sync.client import connect

# The pages' waits on a busy machine (as the webinar pages').
SLOW_MS = 15_000


@pytest.fixture(scope="module")
def forum(site_server: LiveServer) -> Iterator[tuple[LiveServer, Api, User, int]]:
    server = site_server
    with Api(server.base_url) as api:
        admin = create_admin(server, unique_name("boss"), display_name="Bea Boss")
        room = api.create_room(admin.token, name=unique_name("Reading room "))
        yield server, api, admin, int(room["id"])


def test_times_read_relative_and_roles_show_beside_names(
        browser: Browser, contexts: list[BrowserContext],
        forum: tuple[LiveServer, Api, User, int]) -> None:
    server, api, admin, room_id = forum
    expert = api.register(unique_name("exp"), display_name="Eli Expert")
    r = api.http.put(f"/api/users/{expert.username}/roles", json={"roles": ["expert"]},
                     headers=admin.auth)
    assert r.status_code == 200, r.text
    thread = api.create_thread(admin.token, room_id, title="Badges and times")
    page = new_page(browser, contexts, timezone_id="Europe/Paris", timeout_ms=SLOW_MS)
    page.goto(f"{server.base_url}/threads/{thread['id']}")
    opening = page.locator("article.post").first
    expect(opening.locator(".role-badge")).to_have_text("Admin")
    stamp = opening.locator("time")
    expect(stamp).to_have_text("just now")
    expect(stamp).to_have_attribute("title", re.compile(r"^\w{3}, \d+ \w{3} \d{4}, \d\d:\d\d CET$"))
    # A post that arrives live is read the same way.
    with connect(f"{server.ws_url}?token={expert.token}") as ws:
        ws.send(json.dumps({"op": "send", "ref": "r", "channel": f"thread:{thread['id']}",
                            "type": "post.create", "data": {"body": "Live reply"}}))
        assert json.loads(ws.recv(timeout=10))["op"] == "ack"
    reply = page.locator("article.post", has_text="Live reply")
    expect(reply.locator(".role-badge")).to_have_text("Expert")
    expect(reply.locator("time")).to_have_text("just now")
    # The room's thread list reads "just now" too.
    page.goto(f"{server.base_url}/rooms/{room_id}")
    expect(page.locator(".thread-item", has_text="Badges and times").locator("time"))\
        .to_have_text("just now")


def test_a_room_list_follows_replies_live(
        browser: Browser, contexts: list[BrowserContext],
        forum: tuple[LiveServer, Api, User, int]) -> None:
    server, api, admin, _ = forum
    room = api.create_room(admin.token, name=unique_name("Live list "))
    older = api.create_thread(admin.token, room["id"], title="Older thread")
    api.create_thread(admin.token, room["id"], title="Newer thread")
    page = new_page(browser, contexts, timeout_ms=SLOW_MS)
    page.goto(f"{server.base_url}/rooms/{room['id']}")
    items = page.locator("#threads > li")
    expect(items.first).to_contain_text("Newer thread")
    page.wait_for_function("""() => {
        const data = document.querySelector('[ws-connect]')['htmx-internal-data'];
        const socket = data && data.webSocket && data.webSocket.socket;
        return socket && socket.readyState === WebSocket.OPEN;
    }""")
    with connect(f"{server.ws_url}?token={admin.token}") as ws:
        for n in range(2):
            ws.send(json.dumps({"op": "send", "ref": f"r{n}", "channel": f"thread:{older['id']}",
                                "type": "post.create", "data": {"body": f"Reply {n}"}}))
            assert json.loads(ws.recv(timeout=10))["op"] == "ack"
    # Both replies in one update, and the thread moves to the top.
    expect(page.locator(f"#thread-{older['id']}-activity")).to_contain_text("3 posts")
    expect(items.first).to_contain_text("Older thread")
