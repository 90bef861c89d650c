"""axe-core audits of every browser page and its key states, on a desktop (1280×900) and a
360 px phone (360×740), signed out and as the demo community's members (issues 18–20: "0 axe
violations on every new page and state, desktop and 360 px").

One seeded server and one Chromium serve the module; each (member, viewport) pair signs in once
and keeps its browser context, so a test only navigates and audits. A failure names the page, the
member and the viewport, and lists each rule broken with the elements that break it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.axe import assert_accessible, audit_context
from support.servers import REPO_ROOT, LiveServer, ServerFactory

# One worker runs them all (scripts/test uses --dist loadgroup): the seeded server, the browser
# and the signed-in contexts are made once instead of once per worker.
pytestmark = pytest.mark.xdist_group("accessibility")

DEMO_PASSWORD = "collab-demo"
VIEWPORTS = {"desktop": (1280, 900), "phone": (360, 740)}
ANON = "signed-out"

# (page, who looks at it). Addresses hold {placeholders} found in the seeded data (`ids`).
# Signed out for every public page; signed in as whoever sees the most of it (forms, owner's
# and host's controls, the review queue).
PAGES: list[tuple[str, str]] = [
    ("/", ANON), ("/", "maria.lopez"),
    ("/search?q=procurement", ANON), ("/search?q=zzqxv", "maria.lopez"),
    ("/rooms", ANON), ("/rooms", "maria.lopez"),
    ("/rooms/{room}", ANON), ("/rooms/{room}", "maria.lopez"),
    ("/threads/{thread}", ANON), ("/threads/{thread}", "maria.lopez"),
    ("/threads/{thread}?quote={post}", "sam.okafor"),
    ("/posts/{post}/flag", "sam.okafor"),
    ("/projects", ANON), ("/projects", "maria.lopez"),
    ("/projects/{project}", ANON), ("/projects/{project}", "maria.lopez"),
    ("/boards/{board}", ANON), ("/boards/{board}", "maria.lopez"),
    ("/cards/{card}", "maria.lopez"),
    ("/me/tasks", "maria.lopez"),
    ("/webinars", ANON), ("/webinars", "sam.okafor"),
    ("/webinars/{webinar}", ANON), ("/webinars/{webinar}", "sam.okafor"),
    ("/webinars/{webinar}/live", ANON), ("/webinars/{webinar}/live", "maria.lopez"),
    ("/webinars/{webinar}/console", "sam.okafor"),
    ("/webinars/{webinar}/present", "sam.okafor"),
    ("/webinars/new", "sam.okafor"),
    ("/webinars/{webinar}/edit", "sam.okafor"),
    ("/webinars?when=past", ANON), ("/webinars/{past}", ANON),
    ("/library", ANON), ("/library", "sam.okafor"),
    ("/library?q=procurement", ANON),
    ("/library?q=procuremnt", ANON),
    ("/library/{entry}", ANON), ("/library/{entry}", "sam.okafor"),
    ("/library/review", "sam.okafor"),
    ("/library/{in_review}", "sam.okafor"), ("/library/{in_review}/diff", "sam.okafor"),
    ("/library/new", "sam.okafor"), ("/library/new?kind=case_study", "sam.okafor"),
    ("/library/mine", "sam.okafor"),
    ("/case-studies", ANON),
    ("/members/maria.lopez", ANON),
    ("/notifications", "maria.lopez"),
    ("/settings", "maria.lopez"),
    ("/moderation/flags", "maria.lopez"),
    ("/admin/audit", "admin"),
    ("/login", ANON),
    ("/register", ANON),
]


Reach = Callable[[Page, str, dict[str, int]], None]


# Pages whose scripts change what they show, audited as served too: the site's scripts are all
# files under /static/ (the CSP allows no inline script) and none uses <noscript>, so blocking
# them shows the page as a reader without JavaScript gets it. (Chromium with JavaScript off
# runs no timers, and axe needs them.)
WITHOUT_SCRIPTS: list[tuple[str, str]] = [
    ("/library?q=procurement", ANON),
    ("/threads/{thread}", "maria.lopez"),
    ("/boards/{board}", "maria.lopez"),
    ("/webinars/{webinar}", ANON),
    ("/webinars/{webinar}/live", "maria.lopez"),
    ("/webinars/{webinar}/console", "sam.okafor"),
]
NO_SCRIPTS = "-no-scripts"


def _state_settings_bad_zone(page: Page, base: str, ids: dict[str, int]) -> None:
    """The settings form answering a zone that is not one (an old bookmark, a stale form)."""
    page.goto(f"{base}/settings")
    page.locator("#settings-zone").evaluate(
        "s => { s.options[1].value = 'Mars/Olympus_Mons'; s.selectedIndex = 1; }")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("time zone")


def _state_login_failed(page: Page, base: str, ids: dict[str, int]) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("maria.lopez")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_be_visible()


def _state_register_refused(page: Page, base: str, ids: dict[str, int]) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Username").fill("maria.lopez")  # taken
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_label("Password again").fill("a long enough passphrase")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#register-error")).to_be_visible()


def _state_library_filters_open(page: Page, base: str, ids: dict[str, int]) -> None:
    """The library's results with the folded filters opened (folded on a phone)."""
    page.goto(f"{base}/library?q=procurement")
    folded = page.locator("details.filters, details:has(.facet)").first
    if folded.count() and not folded.evaluate("d => d.open"):
        folded.locator("summary").click()
    expect(page.locator(".facet").first).to_be_visible()


def _state_not_found(page: Page, base: str, ids: dict[str, int]) -> None:
    answer = page.goto(f"{base}/rooms/2147483646")
    assert answer is not None and answer.status == 404


def _state_card_conflict(page: Page, base: str, ids: dict[str, int]) -> None:
    """Two tabs edit the same card's title; the second to save is told of the conflict."""
    size = (page.viewport_size or {}).get("width")  # each run changes the title anew
    page.goto(f"{base}/cards/{ids['card']}")
    page.get_by_label("Title").fill(f"Retitled here ({size})")  # not saved yet
    other = page.context.new_page()
    try:
        other.goto(f"{base}/cards/{ids['card']}")
        other.get_by_label("Title").fill(f"Retitled in the other tab ({size})")
        other.locator("#card-editor").get_by_role("button", name="Save").click()
        expect(other.locator("#card-title")).to_have_text(f"Retitled in the other tab ({size})")
    finally:
        other.close()
    page.locator("#card-editor").get_by_role("button", name="Save").click()
    expect(page.locator("#card-error, #card-notice:not([hidden])").first).to_be_visible()


def _live_tab(name: str) -> Reach:
    """The live room with one panel chosen: on a phone the panels are tabs."""
    def reach(page: Page, base: str, ids: dict[str, int]) -> None:
        page.goto(f"{base}/webinars/{ids['webinar']}/live")
        tab = page.get_by_role("tab", name=name)
        if tab.is_visible():
            tab.click()
            expect(tab).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("heading", name=name, level=2)).to_be_visible()
    return reach


def _everything_unfolded(address: str) -> Reach:
    """`address` with every <details> on it opened, as by a click on each summary (a closed
    one's content is not rendered, so axe does not see it folded)."""
    def reach(page: Page, base: str, ids: dict[str, int]) -> None:
        page.goto(base + address.format(**ids))
        opened = page.locator("details").evaluate_all(
            "ds => ds.map(d => { d.open = true; return d; }).length")
        assert opened, f"{address} has nothing folded"
    return reach


# (state, who, how to reach it)
STATES: list[tuple[str, str, Reach]] = [
    ("settings-bad-zone", "maria.lopez", _state_settings_bad_zone),
    ("login-failed", ANON, _state_login_failed),
    ("register-refused", ANON, _state_register_refused),
    ("not-found", ANON, _state_not_found),
    ("library-filters-open", ANON, _state_library_filters_open),
    ("library-add-topic-open", "sam.okafor", _everything_unfolded("/library")),
    ("project-unfolded", "maria.lopez", _everything_unfolded("/projects/{project}")),
    ("board-unfolded", "maria.lopez", _everything_unfolded("/boards/{board}")),
    ("live-host-tools-open", "sam.okafor", _everything_unfolded("/webinars/{webinar}/live")),
    ("live-questions-tab", "maria.lopez", _live_tab("Questions")),
    ("live-polls-tab", "maria.lopez", _live_tab("Polls")),
    ("card-edit-conflict", "maria.lopez", _state_card_conflict),
]


@pytest.fixture(scope="module")
def site(session_servers: ServerFactory) -> Iterator[LiveServer]:
    server = session_servers(name="axe-browser", env={"HTTP_WRITES_PER_MINUTE": "0"})
    done = subprocess.run([sys.executable, "-m", "collab.cli", "seed"], env=server.env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pages(site: LiveServer, browser: Browser) -> Iterator[Callable[[str, str], Page]]:
    """`pages(who, viewport)`: that member's page at that size, signed in once and kept."""
    made: dict[tuple[str, str], Page] = {}
    states: dict[str, Any] = {}
    contexts: list[BrowserContext] = []

    def get(who: str, viewport: str) -> Page:
        """`viewport` may end in NO_SCRIPTS: the page without the site's own scripts."""
        if (who, viewport) not in made:
            if who != ANON and who not in states:
                states[who] = _signed_in_state(browser, site.base_url, who)
            width, height = VIEWPORTS[viewport.removesuffix(NO_SCRIPTS)]
            ctx = audit_context(browser, width, height,
                                storage_state=states.get(who))
            if viewport.endswith(NO_SCRIPTS):
                ctx.route(re.compile(r"/static/.*\.js(\?.*)?$"), lambda route: route.abort())
            contexts.append(ctx)
            made[who, viewport] = ctx.new_page()
        return made[who, viewport]

    yield get
    for ctx in contexts:
        ctx.close()


def _signed_in_state(browser: Browser, base: str, username: str) -> Any:
    ctx = audit_context(browser, *VIEWPORTS["desktop"])
    try:
        page = ctx.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return ctx.storage_state()
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def ids(site: LiveServer, pages: Callable[[str, str], Page]) -> dict[str, int]:
    """The seeded objects the addresses name: the first room, its first thread and post, the
    public project's board and first card, the webinar live now and a past one, the first
    library entry and one in the expert's review queue."""
    base = site.base_url

    def first(address: str, pattern: str, near: str | None = None,
              who: str = "maria.lopez") -> int:
        page = pages(who, "desktop")
        page.goto(f"{base}{address}")
        links = page.locator(f"a[href^='{pattern.split('(')[0]}']")
        if near is not None:
            links = page.get_by_role("link", name=near)
        for href in links.evaluate_all("as => as.map(a => a.getAttribute('href'))"):
            found = re.fullmatch(pattern, href or "")
            if found:
                return int(found.group(1))
        raise AssertionError(f"no link like {pattern} on {address}")

    found = {"room": first("/rooms", r"/rooms/(\d+)")}
    found["thread"] = first(f"/rooms/{found['room']}", r"/threads/(\d+)")
    found["post"] = first(f"/threads/{found['thread']}", r"/posts/(\d+)/flag")
    found["project"] = first("/projects", r"/projects/(\d+)", near="Online benefits form")
    found["board"] = first(f"/projects/{found['project']}", r"/boards/(\d+)")
    found["card"] = first(f"/boards/{found['board']}", r"/cards/(\d+)")
    found["webinar"] = first("/webinars", r"/webinars/(\d+)",
                             near="Outcome-based procurement in practice")
    found["past"] = first("/webinars?when=past", r"/webinars/(\d+)",
                          near="Accessibility audits that stick")
    found["entry"] = first("/library", r"/library/(\d+)")
    # An entry waiting in the expert's queue, with revisions to compare.
    found["in_review"] = first("/library/review", r"/library/(\d+)\?revision=\d+",
                              who="sam.okafor")
    return found


def _id(case: tuple[str, str]) -> str:
    return f"{case[0]}~{case[1]}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("case", PAGES, ids=_id)
def test_page_has_no_axe_violations(case: tuple[str, str], viewport: str, site: LiveServer,
                                    pages: Callable[[str, str], Page],
                                    ids: dict[str, int]) -> None:
    address, who = case
    page = pages(who, viewport)
    answer = page.goto(site.base_url + address.format(**ids))
    assert answer is not None and answer.status == 200, f"{address}: {answer and answer.status}"
    if who != ANON:  # the page is the member's own, not a sign-in redirect
        expect(page.get_by_role("button", name="Sign out")).to_be_attached()
    assert_accessible(page, f"{address} ({who}, {viewport})")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("case", WITHOUT_SCRIPTS, ids=_id)
def test_page_without_scripts_has_no_axe_violations(case: tuple[str, str], viewport: str,
                                                    site: LiveServer,
                                                    pages: Callable[[str, str], Page],
                                                    ids: dict[str, int]) -> None:
    address, who = case
    page = pages(who, viewport + NO_SCRIPTS)
    answer = page.goto(site.base_url + address.format(**ids))
    assert answer is not None and answer.status == 200, f"{address}: {answer and answer.status}"
    assert page.evaluate("() => typeof window.htmx") == "undefined"  # no script ran
    assert_accessible(page, f"{address} ({who}, {viewport}, without scripts)")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s[0]}~{s[1]}")
def test_state_has_no_axe_violations(state: tuple[str, str, Reach],
                                     viewport: str, site: LiveServer,
                                     pages: Callable[[str, str], Page],
                                     ids: dict[str, int]) -> None:
    name, who, reach = state
    page = pages(who, viewport)
    reach(page, site.base_url, ids)
    assert_accessible(page, f"{name} ({who}, {viewport})")


def test_the_audit_fails_on_a_violation(site: LiveServer, pages: Callable[[str, str], Page]) -> None:
    """The audit runs on the site's real pages despite their CSP, and reports what it finds:
    a field that lost its label and a grey-on-white text fail it, named in the message."""
    page = pages(ANON, "desktop")
    page.goto(f"{site.base_url}/login")
    page.evaluate("""() => {
        document.querySelector('label[for=login-username]').remove();
        const p = document.createElement('p');
        p.textContent = 'faint'; p.style.color = '#ccc'; p.id = 'faint';
        document.querySelector('main').append(p);
    }""")
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "/login, broken on purpose")
    message = str(failed.value)
    assert message.startswith("/login, broken on purpose: 2 axe rule(s) violated"), message
    assert "- color-contrast (serious)" in message and "#faint" in message, message
    assert "- label (critical)" in message and "#login-username" in message, message
