"""Times in the reader's zone: a member's saved zone (the API and the no-JavaScript settings
form), webinars scheduled by city, and pages that name the zone of every time they show."""

from __future__ import annotations

from support.api import Api, assert_error_shape, create_admin, hidden_inputs, unique_name
from support.servers import LiveServer, ServerFactory


def test_a_member_saves_a_zone_by_name_or_city_and_bad_ones_are_refused(
        server: LiveServer) -> None:
    with Api(server.base_url) as api:
        member = api.register(unique_name("tz"))
        assert api.http.get("/api/me/preferences").status_code == 401
        assert api.http.get("/api/me/preferences", headers=member.auth).json() == \
            {"time_zone": None}

        def put(value: object) -> dict[str, object]:
            r = api.http.put("/api/me/preferences", json={"time_zone": value},
                             headers=member.auth)
            assert r.status_code in (200, 422), r.text
            return {"status": r.status_code, **r.json()}

        assert put("Madrid") == {"status": 200, "time_zone": "Europe/Madrid"}
        for bad in ("Atlantis", 123, "Madrid\x00", "x" * 100, ["Europe/Paris"]):
            r = api.http.put("/api/me/preferences", json={"time_zone": bad}, headers=member.auth)
            assert r.status_code == 422, bad
            assert assert_error_shape(r)["field"] == "time_zone"
        assert put("america/new_york") == {"status": 200, "time_zone": "America/New_York"}
        # Fields left out stay as they are; null forgets the zone.
        r = api.http.put("/api/me/preferences", json={}, headers=member.auth)
        assert r.json() == {"time_zone": "America/New_York"}
        assert put(None) == {"status": 200, "time_zone": None}


def test_pages_show_times_in_the_saved_zone_without_javascript(
        live_server: ServerFactory) -> None:
    server = live_server()
    admin = create_admin(server)
    with Api(server.base_url) as api:
        r = api.http.post("/api/webinars", headers=admin.auth, json={
            "title": "Winter planning", "timezone": "Madrid", "visibility": "public",
            "starts_at": "2030-01-15T12:00:00Z", "ends_at": "2030-01-15T13:30:00Z"})
        assert r.status_code == 201, r.text
        webinar = r.json()
        assert webinar["timezone"] == "Europe/Madrid"
        bad = create_webinar_status(api, admin.auth, "Nowhere")
        assert bad == 422

        member = api.register(unique_name("reader"))
        with Api(server.base_url) as browser:
            browser.login_session(member.username, member.password)
            # Before a zone is saved: UTC, named (the browser's zone comes from times.js).
            page = browser.http.get(f"/webinars/{webinar['id']}").text
            assert "Tue, 15 Jan 2030, 12:00 UTC" in page
            form = hidden_inputs(browser.http.get("/settings").text)
            r = browser.http.post("/settings", data={**form, "time_zone": "America/New_York"})
            assert r.status_code == 303 and r.headers["location"] == "/settings?done=1"
            page = browser.http.get(f"/webinars/{webinar['id']}").text
            assert "Tue, 15 Jan 2030, 07:00 EST" in page and "08:30 EST" in page
            # The webinar's own zone beside it, which the browser leaves as it is.
            assert "in the webinar's zone, Europe/Madrid" in page
            assert '<time datetime="2030-01-15T12:00:00Z">Tue, 15 Jan 2030, 13:00 CET</time>' \
                in page
            listing = browser.http.get("/webinars").text
            assert "Tue, 15 Jan 2030, 07:00 EST" in listing
            assert "13:00 CET</time> in Europe/Madrid" in listing
            # A zone nobody has is refused, with the choice kept on the page.
            r = browser.http.post("/settings", data={**form, "time_zone": "Atlantis"})
            assert r.status_code == 422 and 'role="alert"' in r.text
            assert api.http.get("/api/me/preferences", headers=member.auth).json() == \
                {"time_zone": "America/New_York"}


def create_webinar_status(api: Api, auth: dict[str, str], zone: str) -> int:
    r = api.http.post("/api/webinars", headers=auth, json={
        "title": "Nowhere", "timezone": zone, "starts_at": "2030-01-15T12:00:00Z"})
    if r.status_code == 422:
        assert assert_error_shape(r)["field"] == "timezone"
    return r.status_code


