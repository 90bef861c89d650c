"""The authorisation matrix: every HTTP route and every `send` type × anonymous, member, expert,
moderator, admin, each cell asserting allow or deny (issue 7).

The rows are generated from the app's route table and the channel kinds' handler tables: a
route or send type without a rule fails `test_every_route_and_send_type_has_a_rule`, so a new
one cannot slip in unjudged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import Route
from support.api import Api, create_admin, unique_name
from support.servers import LiveServer, ServerFactory

from collab.app import create_app
from collab.settings import Settings

from . import (
    rules_boards,
    rules_community,
    rules_core,
    rules_library,
    rules_site,
    rules_webinars,
)
from .matrix import ROLES, HttpRule, SendRule, World, outcome, principals, send_outcome

HTTP_RULES: list[HttpRule] = [*rules_core.HTTP, *rules_library.HTTP, *rules_webinars.HTTP,
                              *rules_boards.HTTP, *rules_site.HTTP, *rules_community.HTTP]
SEND_RULES: list[SendRule] = [*rules_core.SENDS, *rules_library.SENDS, *rules_webinars.SENDS,
                              *rules_boards.SENDS]


def _app_table() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    app = create_app(Settings(secret_key="matrix", environment="test"))
    routes = set()
    for route in app.routes:
        if isinstance(route, Route):
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            routes |= {(m, path) for m in route.methods or () if m != "HEAD"}
    sends = {(kind, t) for kind, k in app.state.hub.kinds.items() for t in k.send_types()}
    return routes, sends


def test_every_route_and_send_type_has_a_rule() -> None:
    routes, sends = _app_table()
    ruled = {(r.method, r.path) for r in HTTP_RULES}
    assert routes - ruled == set(), "routes without a rule in the authorisation matrix"
    assert ruled - routes == set(), "rules for routes the app does not have"
    ruled_sends = {(r.kind, r.type) for r in SEND_RULES}
    assert sends - ruled_sends == set(), "send types without a rule"
    assert ruled_sends - sends == set(), "rules for send types the app does not have"


@pytest.fixture(scope="module")
def world(session_servers: ServerFactory, admin_for: object) -> Iterator[World]:
    server, admin = admin_for  # type: ignore[misc]
    with Api(server.base_url) as api:
        owner = api.register(unique_name("owner"))
        w = World(server, api, admin, owner)
        w.principals = principals(server, api, admin)
        try:
            yield w
        finally:
            for principal in w.principals.values():
                principal.http.close()


@pytest.fixture(scope="module")
def admin_for(session_servers: ServerFactory) -> tuple[LiveServer, object]:
    server = session_servers(name=unique_name("matrix"), env={
        "HTTP_WRITES_PER_MINUTE": "0", "WS_SEND_RATE": "0", "LOGIN_ATTEMPTS_PER_MINUTE": "0"})
    admin = create_admin(server)  # registering never makes an admin
    assert "admin" in admin.roles
    return server, admin


@pytest.mark.parametrize("rule", HTTP_RULES, ids=[f"{r.method} {r.path}" for r in HTTP_RULES])
def test_http_cells(rule: HttpRule, world: World) -> None:
    wrong = []
    for role in ROLES:
        response = rule.call(world, world.principals[role])
        got = outcome(response)
        want = "allow" if role in rule.allowed else "deny"
        if got != want:
            wrong.append(f"{role}: {got} ({response.status_code} "
                         f"{response.headers.get('location', '')}), expected {want}")
    assert not wrong, wrong


@pytest.mark.parametrize("rule", SEND_RULES, ids=[f"{r.kind}:{r.type}" for r in SEND_RULES])
def test_send_cells(rule: SendRule, world: World) -> None:
    wrong = []
    for role in ROLES:
        who = world.principals[role]
        channel, data = rule.target(world, who)
        got = send_outcome(world, who, channel, rule.type, data)
        want = "allow" if role in rule.allowed else "deny"
        if got != want:
            wrong.append(f"{role}: {got}, expected {want}")
    assert not wrong, wrong


def test_cell_count() -> None:
    # The closing note reports this number; it grows with every route and send type.
    assert len(ROLES) * (len(HTTP_RULES) + len(SEND_RULES)) >= 5 * 40
