"""Profiles and the member directory (issue 20, PROTOCOL.md "Community"): what a member says
about themself is checked field by field, shown escaped, and found by the directory's search
and filters, page by page; only signed-in members see any of it."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from support.api import Api, User, assert_error_shape, create_admin, hidden_inputs, unique_name
from support.servers import ServerFactory


def put_profile(api: Api, user: User, body: Any) -> httpx2.Response:
    return api.http.put("/api/me/profile", json=body, headers=user.auth)


def refused(response: httpx2.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:300]
    error = assert_error_shape(response)
    assert error["code"] == "invalid" and error.get("field") == field, error


def test_profiles_are_checked_field_by_field_and_shown_escaped(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        member = api.register(display_name="Jo Chen")
        refused(put_profile(api, member, {"level": "galactic"}), "level")
        refused(put_profile(api, member, {"topics": ["procurement", "astrology"]}), "topics")
        refused(put_profile(api, member, {"topics": "procurement"}), "topics")
        refused(put_profile(api, member, {"organisation": "Council\x00of Northbridge"}),
                "organisation")
        refused(put_profile(api, member, {"jurisdiction": "x" * 121}), "jurisdiction")
        refused(put_profile(api, member, {"title": 7}), "title")
        refused(put_profile(api, member, {"bio": "b" * 2001}), "bio")
        huge = api.http.put("/api/me/profile", headers={**member.auth,
                                                        "Content-Type": "application/json"},
                            content=json.dumps({"bio": "b" * 10_000_000}).encode())
        assert huge.status_code == 413 and assert_error_shape(huge)["code"] == "too_large"
        # Nothing of the refused bodies was kept.
        me = api.http.get(f"/api/members/{member.username}", headers=member.auth).json()
        assert (me["organisation"], me["level"], me["topics"], me["bio"]) == ("", "", [], "")

        script = "<script>alert('owned')</script>\nSecond line"
        saved = put_profile(api, member, {
            "organisation": "Northbridge City Council", "title": "Procurement officer",
            "level": "municipal", "jurisdiction": "Northbridge",
            "topics": ["procurement", "digital-services"], "bio": script})
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert body["topics"] == ["digital-services", "procurement"]
        assert body["bio"] == script and body["badges"] == [] and "points" not in body
        # Fields left out stay as they were.
        assert put_profile(api, member, {"title": "Head of procurement"}).json()[
            "organisation"] == "Northbridge City Council"

        # Contributions: counted from each product.
        room = api.create_room(admin.token)
        api.create_thread(member.token, int(room["id"]))
        profile = api.http.get(f"/api/members/{member.username.upper()}",
                               headers=admin.auth).json()
        counts = {c["label"]: c["count"] for c in profile["contributions"]}
        assert counts == {"forum posts": 1, "cards done": 0, "webinars hosted": 0,
                          "published library entries": 0}, counts
        assert profile["joined_at"].endswith("Z") and profile["title"] == "Head of procurement"
        missing = api.http.get("/api/members/nobody%25", headers=admin.auth)
        assert missing.status_code == 404 and assert_error_shape(missing)["code"] == "not_found"

    with httpx2.Client(base_url=server.base_url, trust_env=False) as browser:
        form = hidden_inputs(browser.get("/login").text)
        form.update({"username": admin.username, "password": admin.password})
        assert browser.post("/login", data=form).status_code == 303
        page = browser.get(f"/members/{member.username}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page.text
        assert "Head of procurement" in page.text and "Procurement</a>" in page.text
        assert "1</strong> forum posts" in page.text
        assert "Edit your profile" not in page.text  # not their own page
    with httpx2.Client(base_url=server.base_url, trust_env=False) as anonymous:
        page = anonymous.get(f"/members/{member.username}")
        assert page.status_code == 200 and "Jo Chen" in page.text
        assert "Northbridge" not in page.text and "owned" not in page.text
        assert anonymous.get("/api/members").status_code == 401
        assert anonymous.get(f"/api/members/{member.username}").status_code == 401
        directory = anonymous.get("/members")
        assert directory.status_code == 303 and "/login?next=/members" in \
            directory.headers["location"]
        assert anonymous.get("/settings/profile").status_code == 303


def test_the_profile_form_saves_without_javascript_and_names_a_bad_field(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        member = api.register()
    with httpx2.Client(base_url=server.base_url, trust_env=False) as browser:
        form = hidden_inputs(browser.get("/login").text)
        form.update({"username": member.username, "password": member.password})
        assert browser.post("/login", data=form).status_code == 303
        page = browser.get("/settings/profile")
        assert page.status_code == 200 and 'value="procurement"' in page.text
        csrf = hidden_inputs(page.text)["csrf_token"]
        bad = browser.post("/settings/profile", data={
            "csrf_token": csrf, "organisation": "Kept in the form", "bio": "x" * 2001})
        assert bad.status_code == 422
        assert "bio must be at most 2000 characters" in bad.text
        assert 'value="Kept in the form"' in bad.text
        done = browser.post("/settings/profile", data={
            "csrf_token": csrf, "organisation": "Harbour Region", "title": "Analyst",
            "level": "regional", "jurisdiction": "", "bio": "Hello",
            "topics": ["procurement"]})
        assert done.status_code == 303
        assert done.headers["location"] == f"/members/{member.username}?saved=1"
        mine = browser.get(done.headers["location"])
        assert "Your profile is saved." in mine.text and "Edit your profile" in mine.text
        assert "Harbour Region" in mine.text and "Regional" in mine.text


def _member(api: Api, prefix: str, **profile: Any) -> User:
    user = api.register(unique_name(prefix), display_name=profile.pop("name", None))
    r = put_profile(api, user, profile)
    assert r.status_code == 200, r.text
    return user


def test_the_directory_finds_members_by_organisation_level_topic_and_pages(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        viewer = api.register()
        lots = _member(api, "ana", name="Ana Lots", organisation="Northbridge City Council",
                       title="Procurement officer", level="municipal",
                       topics=["procurement"])
        _member(api, "ben", name="Ben Tender", organisation="Northbridge City Council",
                title="Digital lead", level="municipal", topics=["digital-services"])
        _member(api, "cy", name="Cy Frame", organisation="National Treasury",
                title="Procurement adviser", level="national",
                topics=["procurement", "digital-services"])
        # 100% and 50_50 are plain characters, not patterns.
        _member(api, "dee", name="Dee Percent", organisation="100% Shared Services",
                level="regional")
        crowd = [_member(api, "crowd", name=f"Crowd {n:02d}", organisation="Crowd Agency")
                 for n in range(23)]

        def find(**params: Any) -> dict[str, Any]:
            r = api.http.get("/api/members", params=params, headers=viewer.auth)
            assert r.status_code == 200, r.text
            return dict(r.json())

        def names(found: dict[str, Any]) -> list[str]:
            return [m["display_name"] for m in found["results"]]

        assert names(find(organisation="northbridge")) == ["Ana Lots", "Ben Tender"]
        assert names(find(level="national")) == ["Cy Frame"]
        assert names(find(topic="procurement")) == ["Ana Lots", "Cy Frame"]
        assert names(find(topic="procurement", level="municipal")) == ["Ana Lots"]
        assert names(find(q="procurement officer")) == ["Ana Lots"]
        assert names(find(organisation="100%")) == ["Dee Percent"]
        assert find(organisation="%")["total"] == 1
        card = find(q=lots.username)["results"][0]
        assert card == {"username": lots.username, "display_name": "Ana Lots",
                        "organisation": "Northbridge City Council",
                        "title": "Procurement officer", "level": "municipal",
                        "jurisdiction": "", "topics": ["procurement"], "badges": []}

        first, second = find(organisation="crowd agency"), find(organisation="Crowd", page=2)
        assert first["total"] == second["total"] == 23
        assert names(first) == [f"Crowd {n:02d}" for n in range(20)]
        assert names(second) == [f"Crowd {n:02d}" for n in range(20, 23)]
        assert find(organisation="Crowd", page=3)["results"] == []
        assert {m["username"] for m in first["results"] + second["results"]} == \
            {u.username for u in crowd}

        for params, field in (({"level": "galactic"}, "level"), ({"page": "0"}, "page"),
                              ({"q": "x" * 201}, "q"), ({"organisation": "a\x00b"},
                                                        "organisation")):
            r = api.http.get("/api/members", params=params, headers=viewer.auth)
            refused(r, field)

    with httpx2.Client(base_url=server.base_url, trust_env=False) as browser:
        form = hidden_inputs(browser.get("/login").text)
        form.update({"username": viewer.username, "password": viewer.password})
        assert browser.post("/login", data=form).status_code == 303
        page = browser.get("/members", params={"topic": "procurement", "level": "municipal"})
        assert page.status_code == 200 and "1 member found." in page.text
        assert "Ana Lots" in page.text and "Cy Frame" not in page.text
        paged = browser.get("/members", params={"organisation": "Crowd"})
        assert "23 members found." in paged.text and "Crowd 19" in paged.text
        assert "Crowd 20" not in paged.text
        assert 'href="/members?organisation=Crowd&amp;page=2" rel="next"' in paged.text
        assert "Crowd 22" in browser.get("/members?organisation=Crowd&page=2").text
