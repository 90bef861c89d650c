"""Playwright fixtures driving Debian's Chromium (/usr/bin/chromium).

Never `playwright install`: it downloads browsers from outside the package registries. The
system Chromium is launched through `executable_path` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from support.servers import LiveServer, ServerFactory

CHROMIUM = os.environ.get("COLLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root in CI containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: the sync API keeps an asyncio loop running in the main thread while
# it is open, and every anyio test that runs after it (tests/integration, tests/unit) would fail
# with "Cannot run the event loop while another loop is running".
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium per test module; make a context per test (`context`, `page`)."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, storage) for one test."""
    ctx = browser.new_context()
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def contexts() -> Iterator[list[BrowserContext]]:
    """The browser profiles a test opened (support.browser.new_page), closed after it."""
    made: list[BrowserContext] = []
    try:
        yield made
    finally:
        for ctx in made:
            ctx.close()


@pytest.fixture(scope="module")
def site_server(session_servers: ServerFactory, request: pytest.FixtureRequest) -> LiveServer:
    """A server of the test module's own: browsers post in bursts, so the HTTP write limit is
    off; a module adds settings of its own in `SERVER_ENV`."""
    env: Mapping[str, str] = getattr(request.module, "SERVER_ENV", {})
    return session_servers(name=request.module.__name__.removeprefix("test_"),
                           env={"HTTP_WRITES_PER_MINUTE": "0", **env})
