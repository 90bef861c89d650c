"""Accounts and tokens over HTTP (PROTOCOL.md, "Accounts and tokens")."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import DEFAULT_PASSWORD, Api, User, assert_error_shape, hidden_inputs, unique_name


def test_healthz(api: Api) -> None:
    r = api.http.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_register_returns_201_with_the_user(api: Api) -> None:
    name = unique_name()
    r = api.create_user_raw({"username": name, "password": DEFAULT_PASSWORD,
                             "display_name": "Ada Lovelace"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert isinstance(body["id"], int)
    assert body["username"] == name
    assert body["display_name"] == "Ada Lovelace"
    assert "password" not in body and not any("hash" in k for k in body)


def test_register_a_taken_username_is_409(api: Api) -> None:
    user = api.register()
    r = api.create_user_raw({"username": user.username, "password": DEFAULT_PASSWORD})
    assert r.status_code == 409, r.text
    assert_error_shape(r)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"username": "no_password_given"},
        {"password": DEFAULT_PASSWORD},
        {"username": 5, "password": DEFAULT_PASSWORD},
        {"username": "valid_name_x", "password": 12345678},
        {"username": "", "password": DEFAULT_PASSWORD},
        ["username", "password"],
        "just a string",
    ],
)
def test_register_with_bad_input_is_422(api: Api, payload: Any) -> None:
    r = api.create_user_raw(payload)
    assert r.status_code == 422, f"{payload!r} -> {r.status_code} {r.text}"
    assert_error_shape(r)


def test_register_with_a_body_that_is_not_json_is_422(api: Api) -> None:
    r = api.http.post("/api/users", content=b"{not json",
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert_error_shape(r)


def test_a_deeply_nested_body_is_422_and_a_huge_one_413(api: Api) -> None:
    # [[[[…]]]] 1,000 deep made the JSON parser raise RecursionError: a 500, connection reset.
    nested = b'{"username":' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = api.http.post("/api/users", content=nested,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert assert_error_shape(r)["code"] == "invalid"
    huge = b'{"username":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = api.http.post("/api/users", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert assert_error_shape(r)["code"] == "too_large"
    assert api.http.get("/healthz").status_code == 200


def test_token_for_good_credentials_is_201(api: Api) -> None:
    user = api.register()
    r = api.token_raw(user.username, user.password)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert isinstance(token, str) and token


@pytest.mark.parametrize("wrong", ["password", "username"])
def test_token_for_wrong_credentials_is_401(api: Api, wrong: str) -> None:
    user = api.register()
    if wrong == "password":
        r = api.token_raw(user.username, "not the password")
    else:
        r = api.token_raw(unique_name("nobody"), user.password)
    assert r.status_code == 401, r.text
    assert_error_shape(r)


def test_me_with_a_token_is_the_user_with_roles(api: Api, admin: User) -> None:
    user = api.register(display_name="Grace Hopper")
    r = api.http.get("/api/me", headers=user.auth)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["id"] == user.id
    assert me["username"] == user.username
    assert isinstance(me["roles"], list)
    assert "member" in me["roles"]
    assert "admin" not in me["roles"], "registering never makes an admin"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic Zm9vOmJhcg=="},
     {"Authorization": "Bearer"}],
)
def test_me_without_a_valid_token_is_401(api: Api, headers: dict[str, str]) -> None:
    r = api.http.get("/api/me", headers=headers)
    assert r.status_code == 401, r.text
    assert_error_shape(r)


def test_rooms_need_a_moderator_or_admin(api: Api, admin: User) -> None:
    member = api.register()
    payload = {"name": unique_name("Room "), "visibility": "public"}
    r = api.http.post("/api/rooms", json=payload, headers=member.auth)
    assert r.status_code == 403, r.text
    assert_error_shape(r)
    r = api.http.post("/api/rooms", json=payload)
    assert r.status_code == 401, r.text
    assert_error_shape(r)
    r = api.http.post("/api/rooms", json=payload, headers=admin.auth)
    assert r.status_code == 201, r.text
    assert isinstance(r.json()["id"], int)


def test_a_thread_is_created_and_read_back(api: Api, admin: User) -> None:
    room = api.create_room(admin.token)
    member = api.register()
    r = api.http.post(f"/api/rooms/{room['id']}/threads",
                      json={"title": "Procurement thresholds", "body": "What are **yours**?"},
                      headers=member.auth)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["room_id"] == room["id"]
    assert created["title"] == "Procurement thresholds"
    thread = api.get_thread(int(created["id"]))
    assert thread["title"] == "Procurement thresholds"
    seqs = [p["seq"] for p in thread["posts"]]
    assert seqs == sorted(seqs)


def test_missing_thread_is_404_json(api: Api) -> None:
    r = api.http.get("/api/threads/999999")
    assert r.status_code == 404
    assert_error_shape(r)


def test_token_attempts_are_rate_limited_per_username(api: Api) -> None:
    """docs/protocol.md: at most LOGIN_ATTEMPTS_PER_MINUTE (10) attempts a minute, then 429."""
    user = api.register()  # register() itself used one attempt (its token)
    statuses = [api.token_raw(user.username, "wrong password").status_code for _ in range(12)]
    assert statuses[:9] == [401] * 9, statuses
    assert statuses[-1] == 429, statuses
    r = api.token_raw(user.username, user.password)
    assert r.status_code == 429, "the right password does not bypass the limit"
    assert_error_shape(r)
    assert r.headers.get("Retry-After"), r.headers
    # Another username from the same address is not locked out.
    other = api.register()
    assert api.token(other.username, other.password)


def test_a_members_only_page_sends_an_anonymous_visitor_to_sign_in_and_back(api: Api) -> None:
    user = api.register()
    # A browser of its own: signing in must not leave a cookie on the session-wide client.
    with Api(str(api.http.base_url).rstrip("/")) as browser:
        page = browser.http.get("/library/mine", follow_redirects=False)
        assert page.status_code == 303, page.text[:300]
        assert page.headers["location"] == "/login?next=/library/mine"
        # The API answers the same request with its JSON error, not a page.
        r = browser.http.get("/library/mine", headers={"Accept": "application/json"},
                             follow_redirects=False)
        assert r.status_code == 401 and assert_error_shape(r)["code"] == "unauthenticated"
        login = browser.http.get(page.headers["location"])
        assert login.status_code == 200
        form = hidden_inputs(login.text)
        form.update({"username": user.username, "password": DEFAULT_PASSWORD})
        signed_in = browser.http.post(page.headers["location"], data=form,
                                      headers={"Origin": browser.base_url},
                                      follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text[:300]
        assert signed_in.headers["location"] == "/library/mine"
        assert browser.http.get("/library/mine").status_code == 200
