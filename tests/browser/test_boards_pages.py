"""The boards' pages in a real Chromium against a live server: two people on one board, live.

Every wait is Playwright's auto-waiting `expect(...)` with a timeout; nothing sleeps to
synchronise. The browser fixtures come from tests/browser/conftest.py (system Chromium).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.api import Api, User, unique_name
from support.browser import LIVE_MS, SLOW_MS, new_page, no_page_errors, sign_in
from support.servers import LiveServer
from websockets.sync.client import connect


@dataclass
class Board:
    server: LiveServer
    api: Api
    owner: User
    mate: User
    project: dict[str, Any]
    columns: list[int]
    cards: list[int]

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/boards/{self.project['board_id']}"


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def send(server: LiveServer, user: User, channel: str, type_: str, data: dict[str, Any]
         ) -> dict[str, Any]:
    """One `send` over a socket of its own (the sync client: Playwright's loop owns this
    thread); returns the ack."""
    with connect(f"{server.ws_url}?token={user.token}", proxy=None) as ws:
        ws.send(json.dumps({"op": "send", "ref": "r", "channel": channel, "type": type_,
                            "data": data}))
        while True:
            frame = json.loads(ws.recv(timeout=SLOW_MS / 1000))
            if frame.get("ref") == "r":
                assert frame["op"] == "ack", frame
                return dict(frame)


@pytest.fixture
def board(site_server: LiveServer) -> Iterator[Board]:
    """A private project of two members with two cards in its first column."""
    server = site_server
    with Api(server.base_url) as api:
        owner, mate = api.register(unique_name("owner")), api.register(unique_name("mate"))
        r = api.http.post("/api/projects", headers=_bearer(owner),
                          json={"name": unique_name("Browser project "),
                                "visibility": "private"})
        assert r.status_code == 201, r.text
        project = r.json()
        r = api.http.post(f"/api/projects/{project['id']}/members", headers=_bearer(owner),
                          json={"username": mate.username, "role": "member"})
        assert r.status_code == 201, r.text
        columns = [c["id"] for c in api.http.get(f"/api/boards/{project['board_id']}",
                                                  headers=_bearer(owner)).json()["columns"]]
        cards = [int(send(server, owner, f"board:{project['board_id']}", "card.create",
                          {"column_id": columns[0], "title": title})["data"]["id"])
                 for title in ("Write the brief", "Book the room")]
        yield Board(server, api, owner, mate, project, columns, cards)


def open_board(page: Page, board: Board, present: int = 1) -> None:
    page.goto(board.url)
    # The presence list comes over the socket: once it names us, we are joined.
    expect(page.locator("#board-presence li")).to_have_count(present, timeout=SLOW_MS)


def card(page: Page, column: int, card_id: int) -> Any:
    return page.locator(f"#cards-{column} > #card-{card_id}")


def test_a_card_dragged_in_one_browser_moves_in_the_other_with_the_progress(
    browser: Browser, board: Board, contexts: list[BrowserContext]
) -> None:
    alice, bob = new_page(browser, contexts), new_page(browser, contexts)
    sign_in(alice, board.server.base_url, board.owner.username)
    sign_in(bob, board.server.base_url, board.mate.username)
    open_board(alice, board)
    open_board(bob, board, present=2)
    expect(alice.locator("#board-presence li")).to_have_count(2)
    todo, _, done = board.columns
    first, second = board.cards
    expect(bob.locator("#progress-done")).to_have_text("0")
    expect(bob.locator("#progress-percent")).to_have_text("0")

    card(alice, todo, first).drag_to(alice.locator(f"#cards-{done}"))

    # Bob sees it move without reloading, the progress figure follows, and both agree.
    expect(card(bob, done, first)).to_be_visible(timeout=LIVE_MS)
    expect(bob.locator("#progress-done")).to_have_text("1", timeout=LIVE_MS)
    expect(bob.locator("#progress-percent")).to_have_text("50", timeout=LIVE_MS)
    expect(bob.locator(f"#column-{done} .kb-count")).to_have_text("1")
    expect(card(alice, done, first)).to_be_visible()
    expect(alice.locator("#progress-percent")).to_have_text("50")
    # The server kept it: a fresh page shows the same board, and so does the API.
    bob.reload()
    expect(card(bob, done, first)).to_be_visible()
    board_now = board.api.http.get(f"/api/boards/{board.project['board_id']}",
                                   headers=_bearer(board.owner)).json()
    assert [c["id"] for c in board_now["columns"][2]["cards"]] == [first]
    assert [c["id"] for c in board_now["columns"][0]["cards"]] == [second]
    no_page_errors(alice, bob)


def test_the_move_to_form_works_from_the_keyboard_and_shows_live(
    browser: Browser, board: Board, contexts: list[BrowserContext]
) -> None:
    alice, bob = new_page(browser, contexts), new_page(browser, contexts)
    sign_in(alice, board.server.base_url, board.owner.username)
    sign_in(bob, board.server.base_url, board.mate.username)
    open_board(alice, board)
    open_board(bob, board, present=2)
    todo, doing, _ = board.columns
    second = board.cards[1]
    mover = card(alice, todo, second)
    mover.locator("summary").focus()
    alice.keyboard.press("Enter")  # opens "Move…"
    mover.get_by_label("Column").select_option(str(doing))
    mover.get_by_label("Position").fill("1")
    mover.get_by_label("Position").press("Enter")
    expect(card(bob, doing, second)).to_be_visible(timeout=LIVE_MS)
    expect(card(alice, doing, second)).to_be_visible()
    # A keyboard user keeps their place: focus moved with the card (it was left on <body>).
    focused = "(document.activeElement.closest('.kb-card') || {}).id"
    assert alice.evaluate(focused) == f"card-{second}"
    # Back above the first card in its old column: the order is the server's, for both.
    moved = card(alice, doing, second)
    moved.get_by_label("Column").select_option(str(todo))
    moved.get_by_label("Position").fill("1")
    moved.get_by_role("button", name="Move").click()
    expect(bob.locator(f"#cards-{todo} > .kb-card").first).to_have_id(f"card-{second}",
                                                                      timeout=LIVE_MS)
    expect(alice.locator(f"#cards-{todo} > .kb-card").first).to_have_id(f"card-{second}")
    no_page_errors(alice, bob)


def test_without_javascript_the_forms_move_and_add_cards(
    browser: Browser, board: Board, contexts: list[BrowserContext]
) -> None:
    page = new_page(browser, contexts, javascript=False)
    sign_in(page, board.server.base_url, board.mate.username)
    page.goto(board.url)
    todo, _, done = board.columns
    first = board.cards[0]
    mover = card(page, todo, first)
    mover.locator("summary").click()
    mover.get_by_label("Column").select_option(str(done))
    mover.get_by_role("button", name="Move").click()
    expect(card(page, done, first)).to_be_visible()
    expect(page.locator("#progress-done")).to_have_text("1")
    page.get_by_label("New card in To do").fill("Added without scripts")
    page.locator(f"#column-{todo} .kb-add-card").get_by_role("button", name="Add").click()
    expect(page.locator(f"#cards-{todo} .kb-card-title", has_text="Added without scripts")
           ).to_be_visible()


def test_a_change_under_my_open_editor_is_shown_instead_of_overwritten(
    browser: Browser, board: Board, contexts: list[BrowserContext]
) -> None:
    alice = new_page(browser, contexts)
    sign_in(alice, board.server.base_url, board.owner.username)
    card_id = board.cards[0]
    alice.goto(f"{board.server.base_url}/cards/{card_id}")
    expect(alice.locator("#board-presence li")).to_have_count(1, timeout=SLOW_MS)
    alice.get_by_label("Title").fill("Alice's title")

    send(board.server, board.mate, f"board:{board.project['board_id']}", "card.update",
         {"card_id": card_id, "version": 1, "title": "Bob's title"})
    notice = alice.locator("#card-notice")
    expect(notice).to_be_visible(timeout=LIVE_MS)
    expect(notice).to_contain_text("while you were editing")
    # Saving anyway is refused by the server, which shows both versions.
    alice.get_by_role("button", name="Save").click()
    expect(alice.locator("#card-error")).to_contain_text("changed by someone else")
    expect(alice.locator("#card-title")).to_have_text("Bob's title")
    expect(alice.get_by_label("Title")).to_have_value("Alice's title")
    # Bob changes it again: the refused save's page holds unsaved edits, so it tells Alice
    # rather than loading Bob's card over her text (it did, once the page had reloaded).
    send(board.server, board.mate, f"board:{board.project['board_id']}", "card.move",
         {"card_id": card_id, "version": 2, "column_id": board.columns[1], "index": 0})
    expect(notice).to_be_visible(timeout=LIVE_MS)
    expect(alice.get_by_label("Title")).to_have_value("Alice's title")
    alice.locator("#card-notice-keep").click()
    # Saving again, knowingly, replaces their version.
    alice.get_by_role("button", name="Save").click()
    expect(alice.locator("#card-title")).to_have_text("Alice's title")
    # The refused save answered 409, which the browser logs; nothing else went wrong.
    alice.errors = [e for e in alice.errors  # type: ignore[attr-defined]
                    if "409 (Conflict)" not in e]
    no_page_errors(alice)


def test_columns_and_cards_added_in_one_browser_appear_in_the_other(
    browser: Browser, board: Board, contexts: list[BrowserContext]
) -> None:
    alice, bob = new_page(browser, contexts), new_page(browser, contexts)
    sign_in(alice, board.server.base_url, board.owner.username)
    sign_in(bob, board.server.base_url, board.mate.username)
    open_board(alice, board)
    open_board(bob, board, present=2)
    alice.get_by_label("New column").fill("Review")
    alice.get_by_role("button", name="Add column").click()
    review = bob.locator(".kb-column", has=bob.get_by_role("heading", name="Review"))
    expect(review).to_be_visible(timeout=LIVE_MS)
    # The new column is last: its cards are now the done ones.
    expect(bob.locator("#board-columns > .kb-column").last).to_have_attribute(
        "aria-labelledby", re.compile(r"column-\d+-title"))
    alice.get_by_label("New card in Review").fill("Check the figures")
    alice.get_by_label("New card in Review").press("Enter")
    card_in_review = review.locator(".kb-card", has_text="Check the figures")
    expect(card_in_review).to_be_visible(timeout=LIVE_MS)
    expect(bob.locator("#progress-total")).to_have_text("3", timeout=LIVE_MS)
    expect(bob.locator("#progress-done")).to_have_text("1")
    # Bob moves it back to To do with its form (its choices were filled in from the board).
    card_in_review.locator("summary").click()
    card_in_review.get_by_label("Column").select_option(label="To do")
    card_in_review.get_by_role("button", name="Move").click()
    todo = board.columns[0]
    expect(alice.locator(f"#cards-{todo} .kb-card", has_text="Check the figures")
           ).to_be_visible(timeout=LIVE_MS)
    expect(alice.locator("#progress-done")).to_have_text("0")
    no_page_errors(alice, bob)


def test_a_column_moved_right_moves_for_everyone_and_edges_offer_no_move_off_the_board(
    browser: Browser, board: Board, contexts: list[BrowserContext]
) -> None:
    alice, bob = new_page(browser, contexts), new_page(browser, contexts)
    sign_in(alice, board.server.base_url, board.owner.username)
    sign_in(bob, board.server.base_url, board.mate.username)
    open_board(alice, board)
    open_board(bob, board, present=2)
    todo, doing, done = board.columns
    first = alice.locator(f"#column-{todo}")
    first.locator(".kb-column-tools summary").click()
    expect(first.get_by_role("button", name="Move left")).to_be_hidden()
    last = alice.locator(f"#column-{done}")
    last.locator(".kb-column-tools summary").click()
    expect(last.get_by_role("button", name="Move right")).to_be_hidden()
    expect(last.get_by_role("button", name="Move left")).to_be_visible()
    first.get_by_role("button", name="Move right").click()
    order = bob.locator("#board-columns > .kb-column")
    expect(order).to_have_count(3)
    for page in (alice, bob):
        expect(page.locator("#board-columns > .kb-column").nth(0)).to_have_id(f"column-{doing}",
                                                                             timeout=LIVE_MS)
        expect(page.locator("#board-columns > .kb-column").nth(1)).to_have_id(f"column-{todo}")
    # In the middle now, it may go either way.
    expect(first.get_by_role("button", name="Move left")).to_be_visible()
    expect(first.get_by_role("button", name="Move right")).to_be_visible()
    no_page_errors(alice, bob)
