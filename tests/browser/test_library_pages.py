"""The library's pages in Chromium: search as you type with the address bar kept in step,
narrowing by a facet, opening a result and coming back to the same results; the same without
JavaScript; a publication arriving live on the library's home.

Waits are Playwright's auto-waiting `expect(...)`; nothing sleeps to synchronise.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from support.api import Api
from support.browser import new_page
from support.servers import REPO_ROOT, LiveServer

DEMO_PASSWORD = "collab-demo"


@pytest.fixture(scope="module")
def site(site_server: LiveServer) -> Iterator[LiveServer]:
    server = site_server
    done = subprocess.run([sys.executable, "-m", "collab.cli", "seed"], env=server.env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    yield server
    server.stop()


def test_type_narrow_open_and_go_back(site: LiveServer, browser: Browser,
                                      contexts: list[BrowserContext]) -> None:
    page = new_page(browser, contexts)
    page.goto(f"{site.base_url}/library")
    expect(page.get_by_role("heading", name="New in the library")).to_be_visible()

    search = page.get_by_role("searchbox", name="Search the library")
    search.press_sequentially("emergency response", delay=40)
    # The results replace the home without a page load, and the address bar follows.
    expect(page).to_have_url(re.compile(r"/library\?q=emergency\+response$"))
    count = page.locator("#result-count")
    expect(count).to_contain_text("for “emergency response”")
    expect(page.locator(".result mark").first).to_be_visible()
    results = page.locator(".result-list > li")
    expect(results.first).to_be_visible()
    everything = results.count()
    assert everything > 2

    facet = page.locator('.facet a[data-facet="kind"]', has_text="Case study")
    facet_count = int(facet.locator("xpath=following-sibling::span").inner_text())
    facet.click()
    expect(page).to_have_url(re.compile(r"q=emergency\+response&kind=case_study"))
    expect(page.locator(".active-filters")).to_contain_text("Kind: Case study")
    expect(results).to_have_count(facet_count)
    expect(page.locator(".result .badge", has_text="Case study")).to_have_count(facet_count)
    expect(count).to_be_focused()  # focus is not lost with the link that was replaced
    # Typing more keeps the filter.
    search.click()
    search.press("End")
    search.press_sequentially(" times", delay=40)
    expect(page).to_have_url(re.compile(r"q=emergency\+response\+times&kind=case_study"))
    expect(results.first).to_contain_text("task force")

    title = results.first.locator("h3 a").inner_text()
    results.first.locator("h3 a").click()
    expect(page).to_have_url(re.compile(r"/library/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", name="Measured outcomes")).to_be_visible()

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=emergency\+response\+times&kind=case_study"))
    expect(page.get_by_role("searchbox", name="Search the library")).to_have_value(
        "emergency response times")
    expect(page.locator(".active-filters")).to_contain_text("Kind: Case study")
    expect(results.first.locator("h3 a")).to_have_text(title)

    # Removing the filter, then back again, walks the history of searches.
    page.get_by_role("link", name="Remove filter Kind: Case study").click()
    expect(page).to_have_url(re.compile(r"/library\?q=emergency\+response\+times$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"kind=case_study"))
    expect(page.locator(".active-filters")).to_contain_text("Kind: Case study")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_same_search_without_javascript(site: LiveServer, browser: Browser,
                                            contexts: list[BrowserContext]) -> None:
    page = new_page(browser, contexts, javascript=False)
    page.goto(f"{site.base_url}/library")
    page.get_by_role("searchbox", name="Search the library").fill("procurement")
    page.locator("#library-search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/library\?q=procurement"))
    page.locator('.facet a[data-facet="kind"]', has_text="Research paper").click()
    expect(page).to_have_url(re.compile(r"kind=paper"))
    expect(page.locator(".result-list > li").first).to_contain_text("e-procurement")
    page.locator(".result-list > li h3 a").first.click()
    expect(page.get_by_role("heading", name="Abstract")).to_be_visible()
    page.go_back()
    expect(page.locator(".active-filters")).to_contain_text("Research paper")


def test_a_publication_arrives_on_the_open_home_page(site: LiveServer, browser: Browser,
                                                     contexts: list[BrowserContext]) -> None:
    page = new_page(browser, contexts)
    page.goto(f"{site.base_url}/library")
    feed = page.locator("#new-entries")
    expect(feed).to_be_visible()
    expect(page.locator('[data-channel="library:0"]')).to_have_attribute(
        "data-seq", re.compile(r"\d+"))
    with Api(site.base_url) as api:
        author = api.token("jo.chen", DEMO_PASSWORD)
        expert = api.token("sam.okafor", DEMO_PASSWORD)
        body = {"kind": "article", "title": "Live: pop-up libraries for digital help",
                "summary": "Arrives while the page is open.", "body": "Text.",
                "topics": ["citizen-engagement"]}
        created = api.http.post("/api/library", json=body,
                                headers={"Authorization": f"Bearer {author}"})
        path = f"/api/library/{created.json()['id']}"
        page.wait_for_function(
            "() => document.querySelector('[data-channel=\"library:0\"]')"
            ".getAttribute('data-seq') !== null")
        for step, token in (("submit", author), ("claim", expert)):
            api.http.post(f"{path}/{step}", headers={"Authorization": f"Bearer {token}"})
        r = api.http.post(f"{path}/review", json={"decision": "approve"},
                          headers={"Authorization": f"Bearer {expert}"})
        assert r.status_code == 200, r.text
    expect(feed.locator("li").first).to_contain_text("Live: pop-up libraries for digital help")
    assert page.errors == []  # type: ignore[attr-defined]


def test_on_a_phone_the_facets_fold_and_a_typo_offers_the_right_word(
        site: LiveServer, browser: Browser, contexts: list[BrowserContext]) -> None:
    phone = new_page(browser, contexts, viewport={"width": 360, "height": 740})
    phone.goto(f"{site.base_url}/library?q=procuremnt")
    # "Did you mean" is a link to that search; following it lands on results.
    suggestion = phone.get_by_role("link", name="procurement", exact=True)
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(phone.locator("#result-count")).to_contain_text("for “procurement”")
    # The facets are folded: the first result is in view without scrolling.
    facets = phone.locator("details.facets-fold")
    expect(facets).not_to_have_attribute("open", "")
    first = phone.locator(".result-list .result").first
    box = first.bounding_box()
    assert box is not None and box["y"] < 740, box
    phone.get_by_text("Narrow the results").click()
    expect(facets.locator("a[data-facet]").first).to_be_visible()
    # A laptop keeps them open.
    wide = new_page(browser, contexts)
    wide.goto(f"{site.base_url}/library?q=procurement")
    expect(wide.locator("details.facets-fold")).to_have_attribute("open", "")
