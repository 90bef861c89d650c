"""The forum's pages in a real Chromium against a live server: two people, one thread, live.

Every wait is Playwright's auto-waiting `expect(...)` with a timeout; nothing sleeps to
synchronise. The browser fixtures come from tests/browser/conftest.py (system Chromium).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from support.api import DEFAULT_PASSWORD, Api, User, create_admin, unique_name
from support.browser import LIVE_MS, SLOW_MS, new_page, no_page_errors, sign_in
from support.servers import LiveServer
from websockets.sync.client import connect

# The test server's replay window: a socket further behind than this gets a reset.
REPLAY_MAX = 20


@dataclass
class Site:
    server: LiveServer
    api: Api
    admin: User
    room_id: int

    @property
    def url(self) -> str:
        return self.server.base_url

    def new_thread(self, title: str | None = None, body: str = "Opening post.") -> int:
        thread = self.api.create_thread(self.admin.token, self.room_id, title=title, body=body)
        return int(thread["id"])


# Replay is kept short so that a page can be made to fall too far behind (reset).
SERVER_ENV = {"REPLAY_MAX_EVENTS": str(REPLAY_MAX)}


@pytest.fixture(scope="module")
def site(site_server: LiveServer) -> Iterator[Site]:
    server = site_server
    with Api(server.base_url) as api:
        admin = create_admin(server)  # `collab createuser --role admin`
        room = api.create_room(admin.token, name=unique_name("Browser room "))
        yield Site(server, api, admin, int(room["id"]))


def register(page: Page, site: Site, username: str, display_name: str = "") -> None:
    page.goto(f"{site.url}/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_label("Password again").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(f"{site.url}/rooms")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def member(page: Page, site: Site, prefix: str = "member") -> User:
    """A member registered over the API and signed in through the form in `page`."""
    user = site.api.register(unique_name(prefix))
    sign_in(page, site.url, user.username)
    return user


def open_thread(page: Page, site: Site, thread_id: int) -> None:
    page.goto(f"{site.url}/threads/{thread_id}")
    # The socket's first message is the presence list: once it shows a name, we are joined.
    expect(page.locator("#presence li").first).to_be_visible(timeout=SLOW_MS)


def post_reply(page: Page, text: str) -> None:
    page.get_by_label("Your reply").fill(text)
    page.get_by_role("button", name="Post reply").click()


def posts(page: Page, text: str) -> Locator:
    return page.locator("#posts article.post", has_text=text)


def test_post_in_one_browser_appears_live_in_the_other(browser: Browser, site: Site,
                                                       contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Two browsers, one thread")
    alice, bob = new_page(browser, contexts), new_page(browser, contexts)
    alice_name = unique_name("alice")
    register(alice, site, alice_name, display_name="Alice Example")
    bob_user = member(bob, site, "bob")

    open_thread(alice, site, thread_id)
    open_thread(bob, site, thread_id)
    for page in (alice, bob):
        expect(page.locator("#presence")).to_contain_text("2 here now", timeout=SLOW_MS)
        expect(page.locator("#presence")).to_contain_text("Alice Example")
        expect(page.locator("#presence")).to_contain_text(bob_user.username)

    # A marker that a reload would wipe: the post must arrive without one.
    bob.evaluate("window.__noReload = 'still here'")
    alice.get_by_label("Your reply").press_sequentially("Hello")
    expect(bob.locator("#typing")).to_contain_text("Alice Example is typing", timeout=LIVE_MS * 3)

    text = f"Live hello {unique_name('p')}"
    post_reply(alice, text)
    expect(posts(bob, text)).to_have_count(1, timeout=LIVE_MS)
    expect(posts(alice, text)).to_have_count(1, timeout=LIVE_MS)
    assert bob.evaluate("window.__noReload") == "still here"
    expect(posts(bob, text).locator(".author")).to_have_text("Alice Example")
    # The author's reply box is emptied after sending; the typing line goes with the post.
    expect(alice.get_by_label("Your reply")).to_have_value("")
    expect(bob.locator("#typing")).to_be_empty(timeout=LIVE_MS)
    # Per-viewer controls come from data attributes: Alice may edit hers, Bob may not.
    expect(posts(alice, text).get_by_role("link", name=re.compile("^Edit"))).to_be_visible()
    expect(posts(bob, text).get_by_role("link", name=re.compile("^Edit"))).to_be_hidden()
    expect(posts(bob, text).get_by_role("link", name=re.compile("^Report"))).to_be_visible()

    bob.close()
    expect(alice.locator("#presence")).to_contain_text("1 here now", timeout=SLOW_MS)
    no_page_errors(alice)


# -- 2. without JavaScript -------------------------------------------------------------------
def test_reply_form_works_without_javascript(browser: Browser, site: Site,
                                             contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="No script here")
    page = new_page(browser, contexts, javascript=False)
    member(page, site, "nojs")
    page.goto(f"{site.url}/threads/{thread_id}")
    text = f"Posted with a plain form {unique_name('p')}"
    post_reply(page, text)
    expect(page).to_have_url(re.compile(rf"/threads/{thread_id}(#reply)?$"))
    expect(posts(page, text)).to_have_count(1)
    # An empty reply is refused with the form shown again and the reason on it.
    page.get_by_label("Your reply").fill("   ")
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("alert")).to_contain_text("body must not be empty")


# -- 3. edit and delete, seen live -----------------------------------------------------------
def test_edit_and_delete_of_own_post_show_live(browser: Browser, site: Site,
                                               contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Edit and delete")
    author, reader = new_page(browser, contexts), new_page(browser, contexts)
    member(author, site, "author")
    member(reader, site, "reader")
    open_thread(author, site, thread_id)
    open_thread(reader, site, thread_id)

    original = f"First draft {unique_name('p')}"
    post_reply(author, original)
    expect(posts(reader, original)).to_have_count(1, timeout=LIVE_MS)

    posts(author, original).get_by_role("link", name=re.compile("^Edit")).click()
    edited = f"Second thoughts {unique_name('p')}"
    author.get_by_label("Post text").fill(edited)
    author.get_by_role("button", name="Save changes").click()
    expect(author).to_have_url(re.compile(rf"/threads/{thread_id}#post-\d+$"))
    expect(posts(reader, edited)).to_have_count(1, timeout=LIVE_MS)
    expect(posts(reader, original)).to_have_count(0)
    expect(posts(reader, edited).locator(".edited")).to_have_text("(edited)")

    expect(author.locator("#presence")).to_contain_text("2 here now", timeout=SLOW_MS)
    author.once("dialog", lambda dialog: dialog.accept())
    posts(author, edited).get_by_role("button", name=re.compile("^Delete")).click()
    expect(posts(reader, edited)).to_have_count(0, timeout=LIVE_MS)
    expect(reader.locator("#posts .post-deleted")).to_have_count(1)
    expect(posts(author, edited)).to_have_count(0, timeout=LIVE_MS)
    no_page_errors(author, reader)


def test_delete_without_javascript_asks_first(browser: Browser, site: Site,
                                              contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Delete with a confirm page")
    page = new_page(browser, contexts, javascript=False)
    member(page, site, "confirm")
    page.goto(f"{site.url}/threads/{thread_id}")
    text = f"Soon gone {unique_name('p')}"
    post_reply(page, text)
    posts(page, text).get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("heading", name="Delete this post?")).to_be_visible()
    page.get_by_role("button", name="Delete post").click()
    expect(posts(page, text)).to_have_count(0)
    expect(page.locator("#posts .post-deleted")).to_have_count(1)


# -- 4. a moderator locks the thread ---------------------------------------------------------
def test_moderator_lock_is_seen_live_and_replies_are_refused(
        browser: Browser, site: Site, contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="To be locked")
    moderator, reader = new_page(browser, contexts), new_page(browser, contexts)
    sign_in(moderator, site.url, site.admin.username, site.admin.password)
    member(reader, site, "locked_out")
    open_thread(moderator, site, thread_id)
    open_thread(reader, site, thread_id)
    expect(reader.locator("#thread-locked")).to_be_hidden()
    expect(reader.get_by_label("Your reply")).to_be_visible()

    moderator.get_by_role("button", name="Lock thread").click()
    expect(moderator.get_by_role("button", name="Unlock thread")).to_be_visible()

    expect(reader.locator("#thread-locked")).to_be_visible(timeout=LIVE_MS)
    expect(reader.get_by_text("This thread is locked")).to_be_visible()
    expect(reader.get_by_label("Your reply")).to_be_hidden()
    # The page hides the form, but the server is what refuses: send it over the socket anyway.
    reader.evaluate("""() => {
        const form = document.querySelector('form.reply-form');
        form.querySelector('textarea').value = 'Sneaking in after the lock';
        form.requestSubmit();
    }""")
    expect(reader.locator("#ws-error")).to_contain_text("locked", timeout=LIVE_MS)
    expect(posts(moderator, "Sneaking in")).to_have_count(0)
    # The refused text is given back rather than lost.
    expect(reader.locator("form.reply-form textarea")).to_have_value("Sneaking in after the lock")

    # The audit log keeps the lock, in words, linked to the thread.
    moderator.goto(f"{site.url}/admin/audit")
    row = moderator.get_by_role("row", name=re.compile(r"locked “.+”.*thread\.locked")).first
    expect(row).to_be_visible()
    expect(row.locator(f'a[href="/threads/{thread_id}"]')).to_be_visible()


def test_flag_queue_delete_removes_the_post_live(browser: Browser, site: Site,
                                                 contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Needs a moderator")
    offender = site.api.register(unique_name("offender"))
    text = f"Something out of line {unique_name('p')}"
    _post_over_socket(site, offender, thread_id, text)
    reporter, moderator = new_page(browser, contexts), new_page(browser, contexts)
    member(reporter, site, "reporter")
    sign_in(moderator, site.url, site.admin.username, site.admin.password)

    open_thread(reporter, site, thread_id)
    posts(reporter, text).get_by_role("link", name=re.compile("^Report")).click()
    reporter.get_by_label("Why should a moderator look at it?").fill("Personal attack")
    reporter.get_by_role("button", name="Send report").click()
    expect(reporter.get_by_role("status")).to_contain_text("The moderators will look")
    reporter.get_by_role("link", name="Back to the thread").click()
    expect(reporter.locator("#presence li").first).to_be_visible()

    moderator.goto(f"{site.url}/moderation/flags")
    flag = moderator.locator(".flag", has_text="Personal attack")
    expect(flag).to_contain_text(text)
    flag.get_by_role("button", name=re.compile("^Delete post")).click()
    expect(moderator.get_by_role("status")).to_contain_text("Post deleted")
    expect(moderator.locator(".flag", has_text="Personal attack")).to_have_count(0)
    expect(posts(reporter, text)).to_have_count(0, timeout=LIVE_MS)


# -- 5. hostile Markdown ---------------------------------------------------------------------
def test_script_and_event_handlers_in_posts_are_harmless(
        browser: Browser, site: Site, contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Hostile input")
    writer, reader = new_page(browser, contexts), new_page(browser, contexts)
    member(writer, site, "mallory")
    member(reader, site, "victim")
    dialogs: list[str] = []
    for page in (writer, reader):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_thread(writer, site, thread_id)
    open_thread(reader, site, thread_id)

    marker = unique_name("xss")
    post_reply(writer, f"{marker} <script>alert('script')</script> "
                       f"<img src=x onerror=\"alert('img')\"> [click](javascript:alert('link'))")
    live = posts(reader, marker)
    expect(live).to_have_count(1, timeout=LIVE_MS)
    reader.reload()  # and the same post rendered into a full page
    expect(posts(reader, marker)).to_have_count(1)
    for page in (writer, reader):
        body = posts(page, marker).locator(".post-body")
        expect(body.locator("script")).to_have_count(0)
        expect(body.locator("[onerror]")).to_have_count(0)
        expect(body.locator("a[href^='javascript']")).to_have_count(0)
    assert dialogs == []


# -- resuming after a lost socket ------------------------------------------------------------
# Wraps the page's WebSocket so the test can cut the connection and keep it down for a while:
# while `__wsBlocked` is set, new sockets go to a path with no route and fail to open.
_SOCKET_SPY = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__wsUrls = [];
  window.__wsBlocked = false;
  function Spy(url, protocols) {
    window.__wsUrls.push(String(url));
    const target = window.__wsBlocked ? String(url).replace('/ws/html', '/ws/blocked') : url;
    const sock = new Native(target, protocols);
    window.__sockets.push(sock);
    return sock;
  }
  Spy.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Spy[k] = Native[k];
  window.WebSocket = Spy;
})();
"""


def test_lost_socket_resumes_from_last_seq_without_duplicates(
        browser: Browser, site: Site, contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Flaky network")
    page = new_page(browser, contexts)
    page.add_init_script(_SOCKET_SPY)
    member(page, site, "traveller")
    writer = site.api.register(unique_name("writer"))
    open_thread(page, site, thread_id)

    first = f"Before the tunnel {unique_name('p')}"
    post_reply(page, first)
    expect(posts(page, first)).to_have_count(1, timeout=LIVE_MS)
    seen = int(page.locator("#thread").get_attribute("data-seq") or "0")

    # Into the tunnel: the socket closes as the hub closes a slow reader (4008, which the ws
    # extension does not retry by itself; collab.js must), and reconnects fail until we are out.
    page.evaluate("() => { window.__wsBlocked = true; window.__sockets.filter(s => s.url.includes('channel=thread')).at(-1).close(4008); }")
    expect(page.locator("#connection")).to_have_text("Reconnecting…", timeout=SLOW_MS)
    missed = [f"Missed {i} {unique_name('p')}" for i in range(3)]
    for text in missed:
        _post_over_socket(site, writer, thread_id, text)
    for text in missed:
        expect(posts(page, text)).to_have_count(0)

    page.evaluate("() => { window.__wsBlocked = false; }")
    for text in missed:
        expect(posts(page, text)).to_have_count(1, timeout=SLOW_MS)
    expect(posts(page, first)).to_have_count(1)
    urls = page.evaluate("() => window.__wsUrls.filter(u => u.includes('channel=thread'))")
    assert any(f"since={seen}" in u for u in urls[1:]), urls
    # Exactly once, in order.
    texts = page.locator("#posts article.post .post-body").all_inner_texts()
    found = [t for t in texts if t.startswith("Missed")]
    assert found == missed, found


def test_page_too_far_behind_reloads_itself(browser: Browser, site: Site,
                                            contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="Back from holiday")
    page = new_page(browser, contexts)
    page.add_init_script(_SOCKET_SPY)
    member(page, site, "holiday")
    writer = site.api.register(unique_name("busy"))
    open_thread(page, site, thread_id)
    page.evaluate("() => { window.__notReloaded = true; window.__wsBlocked = true;"
                  " window.__sockets.filter(s => s.url.includes('channel=thread')).at(-1)"
                  ".close(4008); }")
    expect(page.locator("#connection")).to_have_text("Reconnecting…", timeout=SLOW_MS)
    missed = [f"While away {i}" for i in range(REPLAY_MAX + 5)]
    _post_over_socket(site, writer, thread_id, *missed)
    page.evaluate("() => { window.__wsBlocked = false; }")
    # Too many to replay: the server says reset, and the page reloads to the current state.
    expect(posts(page, missed[-1])).to_have_count(1, timeout=SLOW_MS)
    expect(page.locator("#posts article.post")).to_have_count(len(missed) + 1)
    assert page.evaluate("() => window.__notReloaded === undefined")


def _post_over_socket(site: Site, user: User, thread_id: int, *texts: str) -> None:
    """Posts by someone else (e.g. while the page is offline), through the JSON socket API."""
    with connect(f"{site.server.ws_url}?token={user.token}") as ws:
        for ref, text in enumerate(texts):
            ws.send(json.dumps({"op": "send", "ref": str(ref), "channel": f"thread:{thread_id}",
                                "type": "post.create", "data": {"body": text}}))
            while True:
                frame = json.loads(ws.recv(timeout=SLOW_MS / 1000))
                if frame.get("ref") == str(ref):
                    assert frame["op"] == "ack", frame
                    break


# -- the room page and long threads ----------------------------------------------------------
def test_new_thread_appears_live_on_the_room_page(browser: Browser, site: Site,
                                                  contexts: list[BrowserContext]) -> None:
    page = new_page(browser, contexts)
    page.goto(f"{site.url}/rooms/{site.room_id}")
    # No wait for the socket: the page asks for `since` the room's seq at render time, so a
    # thread made before the socket joins is replayed to it, and one made after is live.
    title = f"Fresh topic {unique_name('t')}"
    site.new_thread(title=title)
    # Listed once. Not necessarily first: other tests reply in this room meanwhile, and a
    # reply moves its thread up the list (thread.bumped).
    expect(page.locator("#threads li", has_text=title)).to_be_visible(timeout=LIVE_MS * 2)
    expect(page.locator("#threads li", has_text=title)).to_have_count(1)


def test_long_thread_pages_back_to_older_posts(browser: Browser, site: Site,
                                               contexts: list[BrowserContext]) -> None:
    thread_id = site.new_thread(title="A long one", body="Post 0")
    writer = site.api.register(unique_name("chatty"))
    _post_over_socket(site, writer, thread_id, *(f"Post {i}" for i in range(1, 56)))
    page = new_page(browser, contexts)
    page.goto(f"{site.url}/threads/{thread_id}")
    bodies = page.locator("#posts article.post .post-body")
    expect(bodies).to_have_count(50)
    expect(bodies.first).to_have_text("Post 6")
    expect(bodies.last).to_have_text("Post 55")
    page.get_by_role("link", name="Older posts").click()
    expect(bodies).to_have_count(6)
    expect(bodies.first).to_have_text("Post 0")
    expect(bodies.last).to_have_text("Post 5")
    expect(page.get_by_role("link", name="Older posts")).to_have_count(0)
    # History is not live: no socket on an older page.
    expect(page.locator("[ws-connect*='channel=thread']")).to_have_count(0)


def test_a_reply_clicked_twice_while_disconnected_is_sent_once_on_return(
        browser: Browser, site: Site, contexts: list[BrowserContext]) -> None:
    """Issue 7, item 8: the form says it is offline, holds the reply, and sends it once."""
    thread_id = site.new_thread(title="Server restarting")
    page = new_page(browser, contexts)
    page.add_init_script(_SOCKET_SPY)
    member(page, site, "impatient")
    open_thread(page, site, thread_id)
    page.evaluate("() => { window.__wsBlocked = true;"
                  " window.__sockets.filter(s => s.url.includes('channel=thread')).at(-1)"
                  ".close(4008); }")
    expect(page.locator("#connection")).to_have_text("Reconnecting…", timeout=SLOW_MS)
    form = page.locator("form.reply-form")
    expect(form.locator(".live-form-status")).to_contain_text("Not connected")
    text = f"Sent once {unique_name('p')}"
    page.get_by_label("Your reply").fill(text)
    button = page.get_by_role("button", name="Post reply")
    button.click()
    button.click()
    expect(form.locator(".live-form-status")).to_contain_text("Not connected")
    page.evaluate("() => { window.__wsBlocked = false; }")
    expect(posts(page, text)).to_have_count(1, timeout=SLOW_MS)
    expect(form.locator(".live-form-status")).to_have_text("", timeout=SLOW_MS)
    # Once on the server too, not only on this page.
    bodies = [p["body"] for p in site.api.get_thread(thread_id)["posts"]]
    assert bodies.count(text) == 1, bodies
