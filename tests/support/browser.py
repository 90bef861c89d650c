"""What every browser test uses: its waits, a page in a profile of its own, signing in.

Every wait is Playwright's auto-waiting `expect(...)` with one of these timeouts; nothing
sleeps to synchronise.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from support.api import DEFAULT_PASSWORD

# The products' promise: a change by anyone shows on every open page "in well under a second".
LIVE_MS = 1000
# Generous waits for things that are not the promise under test (page loads, socket joins).
SLOW_MS = 10_000


def new_page(browser: Browser, contexts: list[BrowserContext], *, javascript: bool = True,
             viewport: dict[str, int] | None = None, timeout_ms: int = SLOW_MS,
             **options: Any) -> Page:
    """A page in a fresh browser profile (cookies), like one person on one machine; the
    `contexts` fixture closes it. `options` go to the profile (`timezone_id`, say). A page
    error (CSP violation, script exception) is recorded for `no_page_errors`, so that it
    fails the test rather than hiding."""
    ctx = browser.new_context(java_script_enabled=javascript,
                              viewport=viewport or {"width": 1280, "height": 900}, **options)
    ctx.set_default_timeout(timeout_ms)
    contexts.append(ctx)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def no_page_errors(*pages: Page) -> None:
    for page in pages:
        assert page.errors == [], page.errors  # type: ignore[attr-defined]


def sign_in(page: Page, base_url: str, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Through the sign-in form, as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
