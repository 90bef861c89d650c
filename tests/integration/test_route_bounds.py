"""Every route of the route table with ids and numbers out of range: 404 or 422, never a 500
(issue 7, item 6). Ids are ASCII digits below 2^31 (32-bit
columns on PostgreSQL); page numbers and offsets are bounded."""

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
OTHER_PARAMS = {"username": ["%25", "a%00b", "x" * 300, "j%25", "admin_"]}
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
                  else "someone", path)


@pytest.fixture
def site(live_server: ServerFactory, database_url: str) -> Iterator[tuple[LiveServer, User, Any]]:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        setup_forum(api, admin)
    browser = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False)
    form = hidden_inputs(browser.get("/login").text)
    form.update({"username": admin.username, "password": admin.password})
    assert browser.post("/login", data=form).status_code == 303
    try:
        yield server, admin, browser
    finally:
        browser.close()


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
                        url = route.path.replace(f"{{{name}}}", value)
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
