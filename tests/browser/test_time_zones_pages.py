"""Webinar times in each reader's own zone: two browsers in different zones read one webinar
at their own local times (the zone named), chat times that arrive live too, and a member's
saved zone wins over the browser's."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.api import Api, User, create_admin, unique_name
from support.browser import new_page, sign_in
from support.servers import LiveServer
from support.webinars import create_webinar

# The webinar pages' waits (test_webinars_pages.py): a busy machine renders them slowly.
SLOW_MS = 15_000


@pytest.fixture(scope="module")
def zoned(site_server: LiveServer) -> Iterator[tuple[LiveServer, User, int]]:
    server = site_server
    admin = create_admin(server, unique_name("zonehost"), display_name="Zoe Host")
    with Api(server.base_url) as api:
        r = api.http.post("/api/webinars", headers=admin.auth, json={
            "title": "Across the zones", "timezone": "Madrid", "visibility": "public",
            "starts_at": "2030-01-15T12:00:00Z", "ends_at": "2030-01-15T13:30:00Z"})
        assert r.status_code == 201, r.text
        yield server, admin, int(r.json()["id"])


def reader(browser: Browser, contexts: list[BrowserContext], zone: str) -> Page:
    return new_page(browser, contexts, timezone_id=zone, timeout_ms=SLOW_MS)


def when(page: Page) -> str:
    return page.locator("dl.facts dd").first.inner_text()


def test_two_readers_in_different_zones_see_their_own_local_times(
        browser: Browser, contexts: list[BrowserContext],
        zoned: tuple[LiveServer, User, int]) -> None:
    server, _, webinar_id = zoned
    paris, new_york = (reader(browser, contexts, z) for z in ("Europe/Paris", "America/New_York"))
    for page in (paris, new_york):
        page.goto(f"{server.base_url}/webinars/{webinar_id}")
    expect(paris.locator("dl.facts dd").first).to_contain_text("Tue, 15 Jan 2030, 13:00 CET")
    expect(new_york.locator("dl.facts dd").first).to_contain_text("Tue, 15 Jan 2030, 07:00 EST")
    # Both see the webinar's own zone beside it, the same for everyone.
    for page in (paris, new_york):
        assert "in the webinar's zone, Europe/Madrid: Tue, 15 Jan 2030, 13:00 CET" in when(page)
    # The list too.
    new_york.goto(f"{server.base_url}/webinars")
    expect(new_york.locator(".webinar-list li", has_text="Across the zones")).to_contain_text(
        "Tue, 15 Jan 2030, 07:00 EST")


def test_live_chat_times_are_local_and_a_saved_zone_wins(
        browser: Browser, contexts: list[BrowserContext],
        zoned: tuple[LiveServer, User, int]) -> None:
    server, admin, _ = zoned
    with Api(server.base_url) as api:
        live_id = int(create_webinar(api, admin.token, title="On now")["id"])
        member = api.register(unique_name("chatter"))
    tokyo = reader(browser, contexts, "Asia/Tokyo")
    sign_in(tokyo, server.base_url, member.username)
    tokyo.goto(f"{server.base_url}/webinars/{live_id}/live")
    expect(tokyo.locator("#attendees li").first).to_be_visible()
    tokyo.locator("#chat-body").fill("Hello")
    tokyo.locator("form.chat-form button[type=submit]").first.click()
    stamp = tokyo.locator(".chat-message", has_text="Hello").locator("time")
    # Sent now, shown in Tokyo's zone (JST is UTC+9 all year), not in UTC.
    expect(stamp).to_have_text(re.compile(r"^\d\d:\d\d (JST|GMT\+9)$"))

    # A saved zone (from the settings page) wins over the browser's.
    tokyo.goto(f"{server.base_url}/settings")
    tokyo.get_by_label("Show times in").select_option("America/New_York")
    tokyo.get_by_role("button", name="Save").click()
    expect(tokyo.get_by_role("status")).to_contain_text("Saved")
    tokyo.goto(f"{server.base_url}/webinars/{zoned[2]}")
    expect(tokyo.locator("dl.facts dd").first).to_contain_text("Tue, 15 Jan 2030, 07:00 EST")
