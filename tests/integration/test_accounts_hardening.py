"""Accounts as an attacker would try them (issue 7): unstorable text, user names as patterns,
taking access away (tokens, sessions, roles), secrets in logs, sign-in limits, no admin by
registration. PROTOCOL.md, "Accounts and tokens"; docs/protocol.md, "HTTP" and "Pages"."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from typing import Any

import httpx2
import pytest
from support.api import (
    DEFAULT_PASSWORD,
    Api,
    User,
    assert_error_shape,
    create_admin,
    hidden_inputs,
)
from support.servers import LiveServer, ServerFactory
from support.wsclient import WSClient

SOCKET_CLOSED_FOR_POLICY = 1008


def post_json(api: Api, path: str, payload: Any, token: str | None = None,
              method: str = "POST") -> httpx2.Response:
    """JSON with `\\uXXXX` escapes, so lone surrogates travel as a client could send them."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return api.http.request(method, path, content=json.dumps(payload).encode(), headers=headers)


def short_name(prefix: str) -> str:
    """A unique user name of at most 40 characters with a fixed ending to play with."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# -- 2. text no database stores ------------------------------------------------------------------

UNSTORABLE = {"nul": "\x00", "lone surrogate": "\ud800"}


def test_unstorable_text_in_account_fields_is_invalid_not_500(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        room = api.create_room(admin.token)
        for label, bad in UNSTORABLE.items():
            for field in ("username", "password", "display_name"):
                payload = {"username": short_name("nul"), "password": DEFAULT_PASSWORD,
                           "display_name": "Ada"}
                payload[field] = f"ab{bad}cdefghij"
                r = post_json(api, "/api/users", payload)
                assert r.status_code == 422, f"{label} in {field}: {r.status_code} {r.text}"
                error = assert_error_shape(r)
                assert error["code"] == "invalid" and error.get("field") == field, error
                # Signing in with such text is refused the same way, before any check.
                creds = {"username": admin.username, "password": admin.password}
                if field != "display_name":
                    creds[field] = f"ab{bad}cdefghij"
                else:
                    creds["name"] = f"ci{bad}"  # a token's name
                r = post_json(api, "/api/tokens", creds)
                assert r.status_code == 422, f"{label} signing in: {r.status_code} {r.text}"
                assert assert_error_shape(r)["code"] == "invalid"
            r = post_json(api, f"/api/rooms/{room['id']}/threads",
                          {"title": f"Title {bad}", "body": "fine"}, token=admin.token)
            assert r.status_code == 422, f"{label} in a title: {r.text}"
            r = post_json(api, f"/api/users/{admin.username}/roles", {"roles": [f"x{bad}"]},
                          token=admin.token, method="PUT")
            assert r.status_code == 422, r.text
        # The member page of such a "name" is simply not there.
        assert api.http.get("/members/a%00b").status_code == 404
        assert api.http.get("/members/a%ED%A0%80b").status_code == 404
        # Nothing was half made: the names tried are free and the server still serves.
        assert api.register(display_name="Ada").roles == ["member"]


def test_nul_in_the_sign_in_and_register_forms_is_a_422_page(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        form = hidden_inputs(api.http.get("/register").text)
        form.update({"username": short_name("form"), "password": DEFAULT_PASSWORD,
                     "password_confirm": DEFAULT_PASSWORD, "display_name": "A\x00B"})
        r = api.http.post("/register", data=form)
        assert r.status_code == 422, r.text[:300]
        assert "cannot be stored" in r.text and "\x00" not in r.text
        form = hidden_inputs(api.http.get("/login").text)
        form.update({"username": "jo\x00chen", "password": DEFAULT_PASSWORD})
        r = api.http.post("/login", data=form)
        assert r.status_code == 422, r.text[:300]
        assert "cannot be stored" in r.text


# -- 3. user names are names, not patterns -------------------------------------------------------


def test_user_names_are_never_patterns(live_server: ServerFactory, database_url: str) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        stem = f"jo{uuid.uuid4().hex[:8]}"
        jo = api.register(f"{stem}.chen")
        for pattern in ("%", "%%", "_", f"{stem}%", f"{stem}_chen", f"{stem[:3]}%", "J%",
                        f"{stem}.che_", "%chen"):
            r = api.token_raw(pattern, jo.password)
            assert r.status_code == 401, f"{pattern!r} -> {r.status_code} {r.text}"
            assert assert_error_shape(r)["code"] == "unauthenticated"
        # jo_chen is a different name from jo.chen, so it is free.
        other = api.register(f"{stem}_chen")
        assert other.id != jo.id
        # Case is ignored, exactly: another case of a taken name is taken, and signs in.
        r = api.create_user_raw({"username": f"{stem.upper()}.CHEN", "password": DEFAULT_PASSWORD})
        assert r.status_code == 409, r.text
        assert api.me(api.token(f"{stem.upper()}.Chen", jo.password))["id"] == jo.id
        # Member pages and the roles API match names the same way.
        assert api.http.get("/members/%25").status_code == 404
        assert api.http.get(f"/members/{stem}%25").status_code == 404
        page = api.http.get(f"/members/{stem.upper()}.CHEN")
        assert page.status_code == 200 and f"{stem}.chen" in page.text
        admin = create_admin(server)
        for pattern in ("%25", f"{stem}%25", f"{stem}_chen_"):
            r = api.http.put(f"/api/users/{pattern}/roles", json={"roles": ["expert"]},
                             headers=admin.auth)
            assert r.status_code == 404, f"{pattern} -> {r.status_code} {r.text}"
        r = api.http.put(f"/api/users/{stem.upper()}.CHEN/roles", json={"roles": ["expert"]},
                         headers=admin.auth)
        assert r.status_code == 200 and r.json()["id"] == jo.id, r.text
        assert api.me(other.token)["roles"] == ["member"], "the pattern touched another user"


def test_the_sign_in_limit_holds_across_cases_and_patterns(api: Api) -> None:
    """docs/protocol.md: 10 failed attempts per client and name a minute. Another spelling of
    the name is the same name; a pattern matching it no longer signs in at all."""
    stem = f"lim{uuid.uuid4().hex[:8]}"
    user = api.register(f"{stem}.chen")
    statuses = [api.token_raw(user.username, "wrong password").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429], statuses
    for variant in (user.username.upper(), f"{stem.upper()}.chen"):
        r = api.token_raw(variant, user.password)
        assert r.status_code == 429, f"{variant}: {r.status_code}"
    for pattern in (f"{stem}.che_", f"{stem}%", f"{stem}.chen%"):
        r = api.token_raw(pattern, user.password)
        # Another name (nothing matches as a pattern), with an allowance of its own.
        assert r.status_code == 401 and "token" not in r.json(), (pattern, r.text)


# -- 4. taking access away -----------------------------------------------------------------------


def test_tokens_are_listed_named_and_never_shown_again(api: Api) -> None:
    user = api.register()
    other = api.register()
    r = api.http.post("/api/tokens", json={"username": user.username, "password": user.password,
                                           "name": "ci bot"})
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["name"] == "ci bot" and isinstance(issued["id"], int)
    expires = dt.datetime.fromisoformat(issued["expires_at"])
    created = dt.datetime.fromisoformat(issued["created_at"])
    assert dt.timedelta(days=89) < expires - created <= dt.timedelta(days=90), issued
    r = api.http.get("/api/tokens", headers={"Authorization": f"Bearer {issued['token']}"})
    assert r.status_code == 200, r.text
    listed = r.json()["tokens"]
    assert [t["id"] for t in listed] == sorted(t["id"] for t in listed)
    assert issued["id"] in {t["id"] for t in listed} and len(listed) == 2  # register's + this
    mine = next(t for t in listed if t["id"] == issued["id"])
    assert set(mine) == {"id", "name", "created_at", "last_used_at", "expires_at"}, mine
    assert mine["last_used_at"] is not None, "the listing itself used the token"
    assert issued["token"] not in r.text and user.token not in r.text
    # Another member's tokens are not in my list.
    theirs = api.http.get("/api/tokens", headers=other.auth).json()["tokens"]
    assert issued["id"] not in {t["id"] for t in theirs}
    # A second use within the minute does not write the time again.
    again = api.http.get("/api/tokens", headers={"Authorization": f"Bearer {issued['token']}"})
    assert next(t for t in again.json()["tokens"] if t["id"] == issued["id"]) == mine
    for bad in ("x" * 81, 5, ["a"]):
        r = api.http.post("/api/tokens", json={"username": user.username,
                                               "password": user.password, "name": bad})
        assert r.status_code == 422 and r.json()["error"]["field"] == "name", r.text
    assert api.http.get("/api/tokens").status_code == 401


def test_a_revoked_token_stops_at_once_on_http_and_on_its_sockets(forum: Any) -> None:
    api: Api = forum.api
    user = api.register()
    spare = api.token(user.username, user.password)
    spare_id = max(t["id"] for t in api.http.get(
        "/api/tokens", headers={"Authorization": f"Bearer {spare}"}).json()["tokens"])

    async def scenario() -> None:
        victim = await WSClient.connect(forum.server.ws_url, token=spare, name="revoked")
        survivor = await WSClient.connect(forum.server.ws_url, token=user.token, name="kept")
        try:
            await victim.join_ok(forum.channel)
            await survivor.join_ok(forum.channel)
            r = api.http.delete(f"/api/tokens/{spare_id}", headers=user.auth)
            assert r.status_code == 204, r.text
            # The socket signed in with it is told and closed, without waiting for a frame.
            assert await victim.closed_code() == SOCKET_CLOSED_FOR_POLICY
            assert any(f.get("code") == "unauthenticated" for f in victim.history), \
                victim.history[-3:]
            # The member's other socket (another token) goes on.
            await survivor.post(forum.channel, "still signed in")
        finally:
            await victim.close()
            await survivor.close()

    _run(scenario)
    assert api.http.get("/api/me", headers={"Authorization": f"Bearer {spare}"}).status_code \
        == 401
    assert api.http.delete(f"/api/tokens/{spare_id}", headers=user.auth).status_code == 404
    # Another member's token cannot be revoked (nor told apart from a missing one).
    other = api.register()
    other_ids = [t["id"] for t in api.http.get("/api/tokens", headers=other.auth).json()["tokens"]]
    r = api.http.delete(f"/api/tokens/{other_ids[0]}", headers=user.auth)
    assert r.status_code == 404 and assert_error_shape(r)["code"] == "not_found"
    assert api.me(other.token)["id"] == other.id
    for bad in ("9" * 19, "-1", "abc", "١"):
        assert api.http.delete(f"/api/tokens/{bad}", headers=user.auth).status_code == 404
    with pytest.raises(Exception, match="403|401"):
        _run(lambda: WSClient.connect(forum.server.ws_url, token=spare))


def test_expired_tokens_are_refused(live_server: ServerFactory) -> None:
    server = live_server(env={"TOKEN_TTL_DAYS": "2"})
    with Api(server.base_url) as api:
        user = api.register()
        issued = api.http.get("/api/tokens", headers=user.auth).json()["tokens"][0]
        expires = dt.datetime.fromisoformat(issued["expires_at"])
        assert abs(expires - dt.datetime.now(dt.UTC) - dt.timedelta(days=2)) \
            < dt.timedelta(minutes=5), issued
        db = server.env["DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE api_tokens SET expires_at = '2001-01-01 00:00:00.000000' "
                         "WHERE id = ?", (issued["id"],))
        r = api.http.get("/api/me", headers=user.auth)
        assert r.status_code == 401 and assert_error_shape(r)["code"] == "unauthenticated"
        with pytest.raises(Exception, match="403|401"):
            _run(lambda: WSClient.connect(server.ws_url, token=user.token))
        fresh = api.token(user.username, user.password)
        listed = api.http.get("/api/tokens", headers={"Authorization": f"Bearer {fresh}"})
        tokens = listed.json()["tokens"]
        # The expired token is gone from the list (and from the table: its id may be reused).
        assert len(tokens) == 1 and tokens[0]["expires_at"] > "2002", tokens


def _sign_in(server: LiveServer, user: User) -> httpx2.Client:
    client = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False)
    form = hidden_inputs(client.get("/login").text)
    form.update({"username": user.username, "password": user.password})
    r = client.post("/login", data=form)
    assert r.status_code == 303, r.text[:300]
    return client


def _signed_in_as(client: httpx2.Client) -> str:
    page = client.get("/rooms")
    assert page.status_code == 200
    marker = 'data-user-id="'
    start = page.text.index(marker) + len(marker)
    return page.text[start:page.text.index('"', start)]


def test_signing_out_ends_the_session_on_the_server(forum: Any) -> None:
    server: LiveServer = forum.server
    user = forum.api.register()
    browser = _sign_in(server, user)
    cookie = browser.cookies["collab"]
    copy = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False,
                         cookies={"collab": cookie})
    other_browser = _sign_in(server, user)
    try:
        assert _signed_in_as(browser) == _signed_in_as(copy) == str(user.id)

        async def scenario() -> None:
            headers = {"Cookie": f"collab={cookie}"}
            sock = await WSClient.connect(server.ws_url, headers=headers, origin=server.origin)
            other = await WSClient.connect(
                server.ws_url, headers={"Cookie": f"collab={other_browser.cookies['collab']}"},
                origin=server.origin)
            try:
                await sock.join_ok(forum.channel)
                await other.join_ok(forum.channel)
                csrf = hidden_inputs(browser.get("/rooms").text)["csrf_token"]
                r = browser.post("/logout", data={"csrf_token": csrf})
                assert r.status_code == 303
                # The signed-out session's socket is told and closed; the other browser's
                # session (the same member) is untouched.
                assert await sock.closed_code() == SOCKET_CLOSED_FOR_POLICY
                await other.post(forum.channel, "the other browser is still signed in")
                # The copied cookie opens only an anonymous socket now.
                late = await WSClient.connect(server.ws_url, headers=headers,
                                              origin=server.origin)
                try:
                    reply = await late.send_action(forum.channel, "post.create", {"body": "x"})
                    assert reply.get("code") == "unauthenticated", reply
                finally:
                    await late.close()
            finally:
                await sock.close()
                await other.close()

        _run(scenario)
        assert _signed_in_as(copy) == "", "a copy of a signed-out cookie still signs in"
        assert _signed_in_as(browser) == ""
        assert _signed_in_as(other_browser) == str(user.id)
    finally:
        browser.close()
        copy.close()
        other_browser.close()


def test_a_demoted_moderators_open_socket_can_no_longer_lock_threads(
    forum: Any, admin: User
) -> None:
    api: Api = forum.api
    moderator = api.register()
    r = api.http.put(f"/api/users/{moderator.username}/roles", json={"roles": ["moderator"]},
                     headers=admin.auth)
    assert r.status_code == 200, r.text

    async def scenario() -> None:
        sock = await WSClient.connect(forum.server.ws_url, token=moderator.token)
        try:
            await sock.join_ok(forum.channel)
            reply = await sock.send_action(forum.channel, "thread.lock", {"locked": True})
            assert reply.get("op") == "ack", reply
            demoted = api.http.put(f"/api/users/{moderator.username}/roles",
                                   json={"roles": []}, headers=admin.auth)
            assert demoted.status_code == 200, demoted.text
            reply = await sock.send_action(forum.channel, "thread.lock", {"locked": False})
            assert reply.get("op") == "error" and reply.get("code") == "forbidden", reply
            await sock.ping()  # still a member: the socket stays open
        finally:
            await sock.close()

    _run(scenario)
    assert api.get_thread(forum.thread_id)["locked"] is True


def _run(factory: Any) -> Any:
    """Run an async scenario from a sync test (the API helper is synchronous)."""
    import anyio

    return anyio.run(factory)


# -- 9. registration never makes an admin --------------------------------------------------------


def test_concurrent_first_registrations_make_no_admin(live_server: ServerFactory) -> None:
    server = live_server()
    users: list[User] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def register() -> None:
        try:
            with Api(server.base_url) as api:
                start.wait(timeout=10)
                users.append(api.register())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(users) == 3
    assert all(u.roles == ["member"] for u in users), [u.roles for u in users]
    with Api(server.base_url) as api:
        r = api.http.post("/api/rooms", json={"name": "Mine now"}, headers=users[0].auth)
        assert r.status_code == 403, "a first registration may not run the site"
    admin = create_admin(server)
    assert admin.roles == ["member", "admin"]


# -- 10. HSTS over HTTPS -------------------------------------------------------------------------


def test_hsts_only_for_requests_that_came_over_https(
    server: LiveServer, live_server: ServerFactory
) -> None:
    with httpx2.Client(base_url=server.base_url, trust_env=False) as http:
        plain = http.get("/rooms")
        assert "strict-transport-security" not in plain.headers
        # Through a trusted proxy (uvicorn trusts 127.0.0.1 by default) that terminated TLS.
        proxied = http.get("/rooms", headers={"X-Forwarded-Proto": "https"})
        assert proxied.headers.get("strict-transport-security") == "max-age=31536000"
        api = http.get("/api/rooms", headers={"X-Forwarded-Proto": "https"})
        assert api.headers.get("strict-transport-security") == "max-age=31536000"
    untrusting = live_server(env={"FORWARDED_ALLOW_IPS": "10.255.255.1"})
    with httpx2.Client(base_url=untrusting.base_url, trust_env=False) as http:
        forged = http.get("/rooms", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in forged.headers


# -- 5. sign-in limits ---------------------------------------------------------------------------


def test_sign_in_is_limited_per_address_across_names_and_successes_do_not_count(
    live_server: ServerFactory,
) -> None:
    """One Argon2 check costs ~0.16 s of CPU: cycling through names must not buy more checks."""
    server = live_server(env={"LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "8",
                              "LOGIN_ATTEMPTS_PER_MINUTE": "3"})
    with Api(server.base_url) as api:
        user = api.register()
        # Per name: 2 failures, then a success wipes them; 3 more failures are allowed again.
        for _ in range(2):
            assert api.token_raw(user.username, "wrong password").status_code == 401
        for _ in range(5):  # successes count against neither limit
            assert api.token_raw(user.username, user.password).status_code == 201
        statuses = [api.token_raw(user.username, "wrong password").status_code
                    for _ in range(4)]
        assert statuses == [401, 401, 401, 429], statuses
        # Per address: 5 failures so far; 3 more under other names, then every name is refused.
        statuses = [api.token_raw(short_name("nobody"), "wrong password").status_code
                    for _ in range(4)]
        assert statuses == [401, 401, 401, 429], statuses
        r = api.token_raw(short_name("fresh"), "any password at all")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert assert_error_shape(r)["code"] == "rate_limited"
        other = short_name("late")
        assert api.create_user_raw({"username": other, "password": DEFAULT_PASSWORD}
                                   ).status_code == 201  # registering is not signing in
        assert api.token_raw(other, DEFAULT_PASSWORD).status_code == 429
        # The sign-in form shares the limits.
        form = hidden_inputs(api.http.get("/login").text)
        form.update({"username": other, "password": DEFAULT_PASSWORD})
        page = api.http.post("/login", data=form)
        assert page.status_code == 429 and "Too many sign-in attempts" in page.text
        assert int(page.headers["Retry-After"]) > 0
