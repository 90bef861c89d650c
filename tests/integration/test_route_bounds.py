"""Every route of the route table with ids and numbers out of range: 404 or 422, never a 500
(issue 7, item 6; issue 21, item 6). Ids are ASCII digits below 2^31 (32-bit
columns on PostgreSQL); page numbers and offsets are bounded. An object of every kind exists
with id 1 (a room, a thread, a webinar, a project with its board, a published library entry),
so a route with `1` in its path reaches its query parameters instead of answering 404 first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.routing import Route
from support.api import Api, User, assert_error_shape, create_admin, hidden_inputs, setup_forum
from support.servers import LiveServer, ServerFactory

from collab.app import create_app
from collab.settings import Settings
from collab.web.toolkit import IdConvertor

TOO_BIG = str(2**63)
ID_VALUES = {
    "largest id": str(2**31 - 1),
    "2^31": str(2**31),
    "2^63 - 1": str(2**63 - 1),
    "2^63": TOO_BIG,
    "huge": "9" * 40,
    "zero": "0",
    "negative": "-1",
    "arabic-indic one": "\u0661",
    "superscript one": "\u00b9",
}
NUMBER_PARAMS = ("page", "offset", "limit", "after", "before", "since", "epoch", "seq")
# One of each kind: past 64 bits, past 32 bits, past the last page, negative, not ASCII.
NUMBER_VALUES = [TOO_BIG, str(2**31), "10001", "-1", "\u0661"]
# The only non-id path parameters, and what to try in them.
OTHER_PARAMS = {"username": ["%25", "a%00b", "x" * 300, "j%25", "admin_"],
                # a webinar's export: /webinars/{id}/export/{what}.{format}
                "what": ["%25", "a%00b", "x" * 300, "..", "questions%2F.."],
                "format": ["%25", "a%00b", "x" * 300, "CSV", "csv%00"],
                # a channel's presence: /api/channels/{channel}/presence, `KIND:ID`
                "channel": ["%25", "a%00b", "x" * 300, "webinar:abc", "webinar:2147483648",
                            "nokind:1", "webinar%3A1%00"]}
# What a non-id path parameter holds while another one (or the id) is being tried.
GOOD_OTHER = {"username": "someone", "what": "questions", "format": "csv",
              "channel": "webinar:1"}
SKIPPED = {"/static/{path:path}"}


def route_table() -> list[Route]:
    settings = Settings(database_url="sqlite+aiosqlite:///./unused.db", secret_key="k" * 40,
                        environment="test")
    return [r for r in create_app(settings).routes
            if isinstance(r, Route) and r.path not in SKIPPED]


def test_every_id_in_a_path_uses_the_id_convertor() -> None:
    routes = route_table()
    assert len(routes) > 20, [r.path for r in routes]
    for route in routes:
        for name, convertor in route.param_convertors.items():
            if name in OTHER_PARAMS:
                continue
            assert isinstance(convertor, IdConvertor), (
                f"{route.path}: {{{name}}} must be {{{name}:id}} (ASCII digits below 2^31)")


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: value if m.group(1) not in OTHER_PARAMS
                  else GOOD_OTHER[m.group(1)], path)


@pytest.fixture
def site(live_server: ServerFactory, database_url: str) -> Iterator[tuple[LiveServer, User, Any]]:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        setup_forum(api, admin)
        _one_of_each(api, admin)
    browser = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False)
    form = hidden_inputs(browser.get("/login").text)
    form.update({"username": admin.username, "password": admin.password})
    assert browser.post("/login", data=form).status_code == 303
    try:
        yield server, admin, browser
    finally:
        browser.close()


def _one_of_each(api: Api, admin: User) -> None:
    """A public webinar, project and published library entry, each the first of its kind."""
    expert = api.register()
    r = api.http.put(f"/api/users/{expert.username}/roles", json={"roles": ["expert"]},
                     headers=admin.auth)
    assert r.status_code == 200, r.text
    made = [api.http.post("/api/webinars", headers=admin.auth, json={
                "title": "Bounds", "starts_at": "2030-01-01T10:00:00Z", "visibility": "public"}),
            api.http.post("/api/projects", headers=admin.auth,
                          json={"name": "Bounds", "visibility": "public"}),
            api.http.post("/api/library", headers=admin.auth, json={
                "kind": "article", "title": "Bounds", "summary": "Bounds.", "body": "Bounds.",
                "topics": ["procurement"]})]
    for response in made:
        assert response.status_code == 201 and response.json()["id"] == 1, response.text
    for step, who, body in (("submit", admin, None), ("claim", expert, None),
                            ("review", expert, {"decision": "approve"})):
        r = api.http.post(f"/api/library/1/{step}", headers=who.auth, json=body)
        assert r.status_code == 200, r.text


def _request(browser: httpx2.Client, admin: User, method: str, url: str, csrf: str
             ) -> httpx2.Response:
    if url.startswith("/api/"):
        return browser.request(method, url, headers=admin.auth,
                               json={} if method in ("POST", "PUT") else None)
    data = {"csrf_token": csrf} if method == "POST" else None
    return browser.request(method, url, data=data)


def _check(response: httpx2.Response, url: str, expected: set[int] | None = None) -> None:
    what = f"{response.request.method} {url} -> {response.status_code}: {response.text[:200]}"
    assert response.status_code < 500, what
    if expected is not None:
        assert response.status_code in expected, what
    if url.startswith("/api/") and response.status_code >= 400:
        assert_error_shape(response)


def test_ids_and_numbers_out_of_range_are_never_a_500(
    site: tuple[LiveServer, User, httpx2.Client],
) -> None:
    server, admin, browser = site
    csrf = hidden_inputs(browser.get("/rooms").text)["csrf_token"]
    before = server.logs().count("Traceback")
    requests = 0
    for route in route_table():
        methods = sorted((route.methods or {"GET"}) - {"HEAD"})
        has_id = any(n not in OTHER_PARAMS for n in route.param_convertors)
        for method in methods:
            if has_id:
                for value in ID_VALUES.values():
                    url = _fill(route.path, value)
                    response = _request(browser, admin, method, url, csrf)
                    requests += 1
                    valid = value.isascii() and value.isdigit() and int(value) < 2**31
                    # An id that is not ASCII digits below 2^31 names nothing at all.
                    _check(response, url, None if valid else {404})
            for name, values in OTHER_PARAMS.items():
                if name in route.param_convertors:
                    for value in values:
                        url = _fill(route.path.replace(f"{{{name}}}", value), "1")
                        _check(_request(browser, admin, method, url, csrf), url)
                        requests += 1
            if method != "GET":
                continue
            base = _fill(route.path, "1")
            for value in NUMBER_VALUES:
                url = base + "?" + "&".join(f"{p}={value}" for p in NUMBER_PARAMS)
                _check(_request(browser, admin, "GET", url, csrf), url)
                requests += 1
                if value == TOO_BIG:  # and once as an anonymous visitor
                    _check(httpx2.get(server.base_url + url, trust_env=False), url)
                    requests += 1
            for param in NUMBER_PARAMS:  # one at a time, so a 422 for one hides no other
                url = f"{base}?{param}={TOO_BIG}"
                _check(_request(browser, admin, "GET", url, csrf), url)
                requests += 1
    assert requests > 300, requests
    assert server.logs().count("Traceback") == before, server.logs()[-3000:]


# Issue 21, item 6: `?before=3000000000` on a webinar's chat overflowed asyncpg's int32 (a 500,
# anonymously). Every id-like query parameter (declared with `collab.openapi.id_query`) is
# tried with each of these; each is a clear 422 naming the parameter.
BAD_ID_QUERY = {
    "2^31": str(2**31),
    "3000000000": "3000000000",
    "18 digits": "9" * 18,
    "2^63": TOO_BIG,
    "negative": "-1",
    "not digits": "abc",
    "decimal": "1.5",
    "arabic-indic one": "\u0661",
    "fullwidth one": "\uff11",
}


def id_query_params() -> list[tuple[str, str, int]]:
    """(path, parameter, minimum) of every id-like query parameter the API describes."""
    settings = Settings(database_url="sqlite+aiosqlite:///./unused.db", secret_key="k" * 40,
                        environment="test")
    found = []
    for path, item in create_app(settings).state.openapi["paths"].items():
        for param in item.get("get", {}).get("parameters", []):
            schema = param.get("schema", {})
            if param["in"] == "query" and schema.get("maximum") == 2**31 - 1:
                found.append((path, param["name"], int(schema.get("minimum", 1))))
    return found


def test_the_cursor_parameters_are_all_described_as_ids() -> None:
    found = {(path, name) for path, name, _ in id_query_params()}
    assert {("/api/webinars/{id}/messages", "before"), ("/api/webinars/{id}/messages", "after"),
            ("/api/threads/{id}", "after"), ("/api/library/{id}", "revision"),
            ("/api/library/{id}/diff", "from"), ("/api/library/{id}/diff", "to")} <= found


def test_id_like_query_parameters_out_of_range_are_a_422_on_every_route(
    site: tuple[LiveServer, User, httpx2.Client],
) -> None:
    server, admin, browser = site
    params = id_query_params()
    before = server.logs().count("Traceback")
    with httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False) as anonymous:
        for path, name, minimum in params:
            base = path.replace("{id}", "1")
            # The other required parameters get good values, so only `name` can be refused.
            others = {"from": "1", "to": "1"} if path.endswith("/diff") else {}
            others.pop(name, None)
            good = browser.get(base, params={**others, name: str(max(minimum, 1))},
                               headers=admin.auth)
            assert good.status_code == 200, f"{path}?{name}=1 -> {good.status_code}: {good.text}"
            for what, value in BAD_ID_QUERY.items():
                for client in (browser, anonymous):  # signed in, and as an anonymous visitor
                    r = client.get(base, params={**others, name: value})
                    shown = f"{path}?{name}={value!r} ({what}) -> {r.status_code}: {r.text[:200]}"
                    assert r.status_code == 422, shown
                    error = assert_error_shape(r)
                    assert error["code"] == "invalid" and name in error["message"], shown
    assert server.logs().count("Traceback") == before, server.logs()[-3000:]
