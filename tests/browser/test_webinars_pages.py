"""The webinar pages in a real Chromium against a live server: an attendee asks, a second one
upvotes, the host answers, and all three browsers show each change live; the same room works
without JavaScript; a phone gets tabs.

Every wait is Playwright's auto-waiting `expect(...)`; nothing sleeps to synchronise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from support.api import Api, User, create_admin, unique_name
from support.browser import new_page as _new_page
from support.browser import no_page_errors, sign_in
from support.servers import LiveServer
from support.webinars import create_webinar

# A room of three browsers and a host console on one machine: the room's own waits, longer than
# support.browser's (a question still shows within LIVE_MS of being asked, on an idle machine).
LIVE_MS = 5000
SLOW_MS = 15_000


@dataclass
class Site:
    server: LiveServer
    api: Api
    admin: User

    @property
    def url(self) -> str:
        return self.server.base_url

    def webinar(self, **fields: object) -> int:
        return int(create_webinar(self.api, self.admin.token,
                                  title=f"Live Q&A {uuid.uuid4().hex[:6]}", **fields)["id"])


@pytest.fixture(scope="module")
def site(site_server: LiveServer) -> Iterator[Site]:
    server = site_server
    with Api(server.base_url) as api:
        # Hosting needs the role (registering never gives one): an admin made with the CLI.
        admin = create_admin(server, unique_name("host"), display_name="Hana Host")
        yield Site(server, api, admin)


def new_page(browser: Browser, contexts: list[BrowserContext], *, javascript: bool = True,
             viewport: dict[str, int] | None = None) -> Page:
    return _new_page(browser, contexts, javascript=javascript, viewport=viewport,
                     timeout_ms=SLOW_MS)


def member(page: Page, site: Site, prefix: str, display_name: str) -> User:
    user = site.api.register(unique_name(prefix), display_name=display_name)
    sign_in(page, site.url, user.username)
    return user


def open_room(page: Page, site: Site, webinar_id: int, console: bool = False) -> None:
    page.goto(f"{site.url}/webinars/{webinar_id}/{'console' if console else 'live'}")
    # The socket's first message is the attendee list: once it names someone, we are joined.
    expect(page.locator("#attendees li").first).to_be_visible(timeout=SLOW_MS)


def question(page: Page, text: str) -> Locator:
    return page.locator("#questions li.question", has_text=text)


def test_ask_upvote_answer_show_live_in_three_browsers(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    webinar_id = site.webinar()
    asker, voter, host = (new_page(browser, contexts) for _ in range(3))
    member(asker, site, "asker", "Ada Asker")
    member(voter, site, "voter", "Victor Voter")
    sign_in(host, site.url, site.admin.username)
    open_room(asker, site, webinar_id)
    open_room(voter, site, webinar_id)
    open_room(host, site, webinar_id, console=True)
    for page in (asker, voter, host):
        expect(page.locator("#attendees")).to_contain_text("3 here now", timeout=LIVE_MS)

    # An earlier question, so that the upvote visibly reorders the list.
    asker.get_by_label("Your question", exact=True).fill("What is the budget?")
    asker.get_by_role("button", name="Ask").click()
    for page in (asker, voter, host):
        expect(question(page, "What is the budget?")).to_be_visible(timeout=LIVE_MS)
    asker.get_by_label("Your question", exact=True).fill("How do we measure outcomes?")
    asker.get_by_role("button", name="Ask").click()
    for page in (asker, voter, host):
        expect(question(page, "How do we measure outcomes?")).to_be_visible(timeout=LIVE_MS)
        expect(question(page, "How do we measure outcomes?").locator(".vote-count")) \
            .to_have_text("0")

    # The second attendee upvotes the newer question: it counts 1 and moves to the top.
    question(voter, "How do we measure outcomes?").get_by_role("button", name="Upvote").click()
    for page in (asker, voter, host):
        item = question(page, "How do we measure outcomes?")
        expect(item.locator(".vote-count")).to_have_text("1", timeout=LIVE_MS)
        expect(page.locator("#questions li.question").first).to_contain_text(
            "How do we measure outcomes?", timeout=LIVE_MS)
    expect(question(voter, "How do we measure outcomes?").get_by_role("button", name="Upvote")) \
        .to_be_hidden()
    # Only the host sees the answer control.
    expect(question(asker, "How do we measure outcomes?")
           .get_by_role("button", name="Mark answered")).to_be_hidden()

    # The host answers it: every browser shows it answered.
    question(host, "How do we measure outcomes?").get_by_role("button", name="Mark answered") \
        .click()
    for page in (asker, voter, host):
        item = question(page, "How do we measure outcomes?")
        expect(item.locator(".question-state")).to_have_text("Answered", timeout=LIVE_MS)
        expect(item).to_have_attribute("data-state", "answered")
        # Answered questions go below the open ones.
        expect(page.locator("#questions li.question").first).to_contain_text(
            "What is the budget?", timeout=LIVE_MS)

    # Chat goes live too, and the host can delete a message.
    voter.get_by_label("Message").fill("Hello from Victor <b>not bold</b>")
    voter.get_by_role("button", name="Send").click()
    for page in (asker, voter, host):
        expect(page.locator("#chat-messages li", has_text="Hello from Victor <b>not bold</b>")) \
            .to_be_visible(timeout=LIVE_MS)
    host.locator("#chat-messages li", has_text="Hello from Victor") \
        .get_by_role("button", name="Delete").click()
    for page in (asker, voter):
        expect(page.locator("#chat-messages li", has_text="Hello from Victor")).to_have_count(
            0, timeout=LIVE_MS)
    no_page_errors(asker, voter, host)


def test_premoderation_polls_and_mute_in_the_console(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    webinar_id = site.webinar(premoderation=True)
    attendee, host = new_page(browser, contexts), new_page(browser, contexts)
    member(attendee, site, "held", "Hal Held")
    sign_in(host, site.url, site.admin.username)
    open_room(attendee, site, webinar_id)
    open_room(host, site, webinar_id, console=True)

    attendee.get_by_label("Your question", exact=True).fill("Held for approval?")
    attendee.get_by_role("button", name="Ask").click()
    expect(attendee.locator("#my-pending li", has_text="Held for approval?")).to_be_visible(
        timeout=LIVE_MS)
    expect(question(attendee, "Held for approval?")).to_have_count(0)
    pending = host.locator("#pending li", has_text="Held for approval?")
    expect(pending).to_be_visible(timeout=LIVE_MS)
    pending.get_by_role("button", name="Approve").click()
    expect(question(attendee, "Held for approval?")).to_be_visible(timeout=LIVE_MS)
    expect(attendee.locator("#my-pending li")).to_have_count(0)
    expect(host.locator("#pending li")).to_have_count(0, timeout=LIVE_MS)

    host.get_by_text("New poll").click()
    host.get_by_label("Question", exact=True).fill("Which lot first?")
    host.get_by_label("Option 1").fill("Discovery")
    host.get_by_label("Option 2").fill("Build")
    host.get_by_role("button", name="Start poll").click()
    poll = attendee.locator("#polls li.poll", has_text="Which lot first?")
    expect(poll).to_be_visible(timeout=LIVE_MS)
    poll.get_by_label("Build").check()
    poll.get_by_role("button", name="Vote").click()
    expect(host.locator("#polls li.poll", has_text="Which lot first?").locator(".poll-total")) \
        .to_have_text("1 vote", timeout=LIVE_MS)

    attendee.get_by_label("Message").fill("I talk too much")
    attendee.get_by_role("button", name="Send").click()
    line = host.locator("#chat-messages li", has_text="I talk too much")
    expect(line).to_be_visible(timeout=LIVE_MS)
    line.get_by_role("button", name="Mute").click()
    expect(attendee.locator(".muted-note")).to_be_visible(timeout=LIVE_MS)
    expect(attendee.get_by_label("Message")).to_be_hidden()
    no_page_errors(attendee, host)


def test_the_room_works_without_javascript_and_has_tabs_on_a_phone(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    webinar_id = site.webinar()
    plain = new_page(browser, contexts, javascript=False)
    member(plain, site, "nojs", "Nora Plain")
    plain.goto(f"{site.url}/webinars/{webinar_id}")
    plain.get_by_role("button", name="Register").click()
    expect(plain.get_by_text("You are registered.")).to_be_visible()
    plain.get_by_role("link", name="Open the live room").click()
    plain.get_by_label("Your question", exact=True).fill("Asked without JavaScript?")
    plain.get_by_role("button", name="Ask").click()
    expect(question(plain, "Asked without JavaScript?")).to_be_visible()
    plain.get_by_label("Message").fill("Plain form message")
    plain.get_by_role("button", name="Send").click()
    expect(plain.locator("#chat-messages li", has_text="Plain form message")).to_be_visible()
    # Own question: upvote works as a plain form too, and counts once.
    question(plain, "Asked without JavaScript?").get_by_role("button", name="Upvote").click()
    expect(question(plain, "Asked without JavaScript?").locator(".vote-count")).to_have_text("1")

    phone = new_page(browser, contexts, viewport={"width": 390, "height": 844})
    phone.goto(f"{site.url}/webinars/{webinar_id}/live")
    expect(phone.locator("#chat")).to_be_visible()
    expect(phone.locator("#questions-panel")).to_be_hidden()
    phone.get_by_role("tab", name="Questions").click()
    expect(phone.locator("#questions-panel")).to_be_visible()
    expect(phone.locator("#chat")).to_be_hidden()
    expect(question(phone, "Asked without JavaScript?")).to_be_visible()
    no_page_errors(phone)
