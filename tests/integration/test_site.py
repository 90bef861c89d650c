"""The site's own pages on both databases: the front door, the site-wide search over every
product (only what the viewer may read), and the audit log in words."""

from __future__ import annotations

import httpx2
import pytest
from support.api import Api, User, assert_error_shape, create_admin, unique_name
from support.servers import ServerFactory
from support.webinars import at, create_webinar
from support.wsclient import WSClient

from .test_boards_helpers import add_member, bearer, get_board, make_project, ok

pytestmark = pytest.mark.anyio


def _page(api: Api, path: str, user: User | None = None, **params: str) -> httpx2.Response:
    """A page as a signed-in browser (a session of its own) or an anonymous one sees it."""
    with Api(api.base_url) as browser:
        if user is not None:
            browser.login_session(user.username, user.password)
        return browser.http.get(path, params=params)


def _sources(api: Api, q: str, user: User | None = None) -> dict[str, list[str]]:
    r = api.http.get("/api/search", params={"q": q}, headers=bearer(user) if user else None)
    assert r.status_code == 200, r.text
    return {s["source"]: [h["title"] for h in s["hits"]] for s in r.json()["sources"]}


async def test_the_site_search_finds_every_product_but_only_what_the_viewer_may_read(
        live_server: ServerFactory, database_url: str) -> None:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        owner, outsider = api.register(unique_name("owner")), api.register(unique_name("out"))
        word = unique_name("zq").replace("-", "").replace("_", "")
        secret = make_project(api, owner, "private", name=f"Secret {word}")
        public = make_project(api, owner, "public", name=f"Open {word}")
        async with await WSClient.connect(server.ws_url, token=owner.token) as ws:
            for project, title in ((secret, f"Hidden {word} card"),
                                   (public, f"Open {word} card")):
                board = get_board(api, int(project["board_id"]), owner)
                await ok(ws, f"board:{board['id']}", "card.create",
                         column_id=board["columns"][0]["id"], title=title)
        create_webinar(api, admin.token, title=f"Open {word} webinar")
        create_webinar(api, admin.token, title=f"Members {word} webinar", visibility="members")
        room = api.create_room(admin.token, visibility="members")
        api.create_thread(admin.token, room["id"], title=f"Lounge {word} thread")

        anonymous = _sources(api, word)
        assert anonymous == {"boards": [f"Open {word} card"],
                             "webinars": [f"Open {word} webinar"], "library": []}
        member = _sources(api, word, outsider)
        assert member["boards"] == [f"Open {word} card"]
        assert sorted(member["webinars"]) == [f"Members {word} webinar", f"Open {word} webinar"]
        assert member["forum"] == [f"Lounge {word} thread"]
        assert sorted(_sources(api, word, owner)["boards"]) == [f"Hidden {word} card",
                                                                f"Open {word} card"]
        # -word leaves out; LIKE's own characters are only characters.
        assert "boards" not in _sources(api, f"{word} -open")
        assert _sources(api, "%_%") == {"library": []}

        # The page labels every hit with its product, and works without JavaScript (a GET form).
        page = _page(api, "/search", outsider, q=word).text
        assert f"Hidden {word} card" not in page
        for label in ("Board cards", "Webinars", "Forum threads"):
            assert f'<span class="badge">{label}</span>' in page


def test_the_search_refuses_what_it_cannot_search(live_server: ServerFactory) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        for params, field in (({"q": "x" * 1001}, "q"), ({"q": "a\x00b"}, "q"),
                              ({"q": "a", "limit": "0"}, "limit"),
                              ({"q": "a", "limit": "51"}, "limit"),
                              ({"q": "a", "limit": "99999999999999999999"}, "limit")):
            r = api.http.get("/api/search", params=params)
            assert r.status_code == 422, (params, r.text)
            assert assert_error_shape(r)["field"] == field
        page = api.http.get("/search", params={"q": "x" * 1001})
        assert page.status_code == 422 and 'role="alert"' in page.text
        # Script in the query comes back as text.
        page = api.http.get("/search", params={"q": "<script>alert(1)</script>"})
        assert page.status_code == 200 and "<script>alert" not in page.text


async def test_the_front_door_shows_each_product_to_whom_it_may(
        live_server: ServerFactory, database_url: str) -> None:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        member = api.register(unique_name("door"))
        lounge = api.create_room(admin.token, visibility="members")
        hall = api.create_room(admin.token)
        api.create_thread(admin.token, lounge["id"], title="Only for members")
        api.create_thread(admin.token, hall["id"], title="For everyone")
        create_webinar(api, admin.token, title="Soon for members", visibility="members",
                       starts_at=at(60), ends_at=at(120))
        create_webinar(api, admin.token, title="Live for all")
        project = make_project(api, member, name="My own project")
        board = get_board(api, int(project["board_id"]), member)
        async with await WSClient.connect(server.ws_url, token=member.token) as ws:
            await ok(ws, f"board:{board['id']}", "card.create", column_id=board["columns"][0]["id"],
                     title="Overdue chore", assignees=[member.username], due="2020-01-01")
        r = api.http.post("/api/library", headers=bearer(member), json={
            "kind": "article", "title": "Half-written guidance", "summary": "Soon.",
            "body": "Later.", "topics": ["procurement"]})
        assert r.status_code == 201, r.text

        anonymous = _page(api, "/")
        assert anonymous.status_code == 200
        text = anonymous.text
        assert "For everyone" in text and "Live for all" in text
        assert "Only for members" not in text and "Soon for members" not in text
        assert "Your boards" not in text
        signed_in = _page(api, "/", member).text
        assert "Only for members" in signed_in and "Soon for members" in signed_in
        assert "Your boards" in signed_in and "My own project" in signed_in
        # What waits for this member comes first: their tasks (overdue ones marked), drafts.
        assert signed_in.index("Your tasks") < signed_in.index("New in the forum")
        assert "Overdue chore" in signed_in and '<span class="badge">overdue</span>' in signed_in
        assert "Your library drafts" in signed_in and "Half-written guidance" in signed_in
        assert "Waiting for review" not in signed_in  # experts only
        assert "Half-written guidance" not in text
        # The brand links to the front door from every page.
        assert '<a class="brand" href="/">' in _page(api, "/rooms").text


def test_the_audit_log_reads_in_words_for_every_product(live_server: ServerFactory) -> None:
    server = live_server()
    admin = create_admin(server, display_name="Ada Admin")
    with Api(server.base_url) as api:
        room = api.create_room(admin.token, name=unique_name("Room of record "))
        member = api.register(unique_name("roled"))
        r = api.http.put(f"/api/users/{member.username}/roles", json={"roles": ["expert"]},
                         headers=admin.auth)
        assert r.status_code == 200, r.text
        owner, guest = api.register(unique_name("own")), api.register(unique_name("guest"))
        project = make_project(api, owner, name="Audited project")
        add_member(api, owner, int(project["id"]), guest, role="viewer")

        assert _page(api, "/admin/audit", member).status_code == 403
        anonymous = _page(api, "/admin/audit")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/login?next=/admin/audit"
        log = " ".join(_page(api, "/admin/audit", admin).text.split())
        assert (f'Ada Admin</a> <a href="/rooms/{room["id"]}">created the room “{room["name"]}”'
                in log)
        assert f"changed {member.username}&#39;s roles from member to member, expert" in log
        assert f"changed {guest.username}&#39;s role (none to viewer) in “Audited project”" in log
        # The old address leads there.
        moved = api.http.get("/moderation/audit", params={"page": "2"})
        assert moved.status_code == 301 and moved.headers["location"] == "/admin/audit?page=2"
