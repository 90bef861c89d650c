"""HTTP helpers for collab's JSON API (accounts, rooms, threads) and the login form.

`httpx2` is the maintained fork of httpx that Starlette 1.x's TestClient wants; it installs the
import name `httpx2`.
"""

from __future__ import annotations

import html as htmllib
import itertools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Self

import httpx2

from .servers import RUNNING, LiveServer

DEFAULT_PASSWORD = "correct horse battery staple"
_users = itertools.count(1)


def unique_name(prefix: str = "user") -> str:
    """A username no other test uses (the servers' databases may be shared within a session)."""
    return f"{prefix}{next(_users)}_{uuid.uuid4().hex[:6]}"


@dataclass
class User:
    id: int
    username: str
    password: str
    token: str
    roles: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def assert_error_shape(response: httpx2.Response) -> dict[str, Any]:
    """`{"error": {"code", "message"}}`, as PROTOCOL.md requires of every API error."""
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(
            f"{response.request.method} {response.request.url} -> {response.status_code} "
            f"is not JSON: {response.text[:300]}"
        ) from None
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str), body
    return error


def _expect(response: httpx2.Response, status: int) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"expected {status}: {response.text[:500]}"
    )
    return response.json()


class Api:
    """A synchronous client for one server. Close it (or use `with`)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.http = httpx2.Client(base_url=base_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts ----------------------------------------------------------------------------------

    def create_user_raw(self, payload: Any) -> httpx2.Response:
        return self.http.post("/api/users", json=payload)

    def token_raw(self, username: str, password: str) -> httpx2.Response:
        return self.http.post("/api/tokens", json={"username": username, "password": password})

    def token(self, username: str, password: str) -> str:
        body = _expect(self.token_raw(username, password), 201)
        assert isinstance(body.get("token"), str) and body["token"], body
        return str(body["token"])

    def me(self, token: str) -> dict[str, Any]:
        return dict(_expect(self.http.get("/api/me", headers=_bearer(token)), 200))

    def register(
        self,
        username: str | None = None,
        password: str = DEFAULT_PASSWORD,
        display_name: str | None = None,
    ) -> User:
        """Register a user, get a token and read `/api/me`."""
        username = username or unique_name()
        payload: dict[str, Any] = {"username": username, "password": password}
        if display_name is not None:
            payload["display_name"] = display_name
        created = _expect(self.create_user_raw(payload), 201)
        token = self.token(username, password)
        me = self.me(token)
        return User(
            id=int(created["id"]), username=username, password=password, token=token,
            roles=list(me.get("roles", [])),
        )

    # -- forum -------------------------------------------------------------------------------------

    def create_room(
        self, token: str, name: str | None = None, visibility: str = "public",
        description: str = "A room made by a test.",
    ) -> dict[str, Any]:
        r = self.http.post(
            "/api/rooms",
            json={"name": name or unique_name("Room "), "description": description,
                  "visibility": visibility},
            headers=_bearer(token),
        )
        return dict(_expect(r, 201))

    def create_thread(
        self, token: str, room_id: int, title: str | None = None,
        body: str = "The opening post of a test thread.",
    ) -> dict[str, Any]:
        r = self.http.post(
            f"/api/rooms/{room_id}/threads",
            json={"title": title or unique_name("Thread "), "body": body},
            headers=_bearer(token),
        )
        return dict(_expect(r, 201))

    def get_thread(self, thread_id: int, token: str | None = None) -> dict[str, Any]:
        r = self.http.get(f"/api/threads/{thread_id}", headers=_bearer(token) if token else None)
        return dict(_expect(r, 200))

    # -- browser login -----------------------------------------------------------------------------

    def login_session(self, username: str, password: str) -> dict[str, str]:
        """Log in through the `/login` form like a browser; returns the cookies it ends with.

        The CSRF field's name is whatever hidden inputs the form carries: every hidden input of
        the login form is sent back, so the test does not depend on the field's name.
        """
        page = self.http.get("/login")
        assert page.status_code == 200, f"GET /login -> {page.status_code}"
        form = hidden_inputs(page.text)
        form.update({"username": username, "password": password})
        r = self.http.post("/login", data=form, headers={"Origin": self.base_url})
        assert r.status_code == 303, (
            f"POST /login -> {r.status_code}: {r.text[:500]}"
        )
        return {name: value for name, value in self.http.cookies.items()}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(r'([\w:-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))')


def hidden_inputs(html: str) -> dict[str, str]:
    """Name → value of every `<input type="hidden">` in `html`."""
    out: dict[str, str] = {}
    for tag in _INPUT.findall(html):
        attrs = {m[0].lower(): m[1] or m[2] or m[3] for m in _ATTR.findall(tag)}
        if attrs.get("type", "").lower() == "hidden" and attrs.get("name"):
            out[attrs["name"]] = htmllib.unescape(attrs.get("value", ""))
    return out


@dataclass
class ForumSetup:
    """A room and a thread on a server, made by its admin."""

    admin: User
    room_id: int
    thread_id: int

    @property
    def channel(self) -> str:
        return f"thread:{self.thread_id}"

    @property
    def room_channel(self) -> str:
        return f"room:{self.room_id}"


def create_admin(server: LiveServer, username: str | None = None,
                 password: str = DEFAULT_PASSWORD, display_name: str | None = None) -> User:
    """An admin made as an operator makes one, `collab createuser --role admin` against the
    server's database (registering never makes an admin), with a token from the API."""
    username = username or unique_name("admin")
    extra = ("--display-name", display_name) if display_name else ()
    server.cli("createuser", "--username", username, "--password", password, "--role", "admin",
               *extra)
    with Api(server.base_url) as api:
        token = api.token(username, password)
        me = api.me(token)
    return User(id=int(me["id"]), username=username, password=password, token=token,
                roles=list(me.get("roles", [])))


def server_of(api: Api) -> LiveServer:
    """The running test server `api` talks to."""
    for server in RUNNING:
        if server.base_url == api.base_url:
            return server
    raise LookupError(f"no running test server at {api.base_url}")


def setup_forum(api: Api, admin: User | None = None, visibility: str = "public") -> ForumSetup:
    """A room and a thread made by an admin (made with `collab createuser --role admin`)."""
    admin = admin or create_admin(server_of(api))
    assert "admin" in admin.roles, f"the forum's maker should be an admin, has {admin.roles}"
    room = api.create_room(admin.token, visibility=visibility)
    thread = api.create_thread(admin.token, int(room["id"]))
    return ForumSetup(admin=admin, room_id=int(room["id"]), thread_id=int(thread["id"]))


@dataclass
class Forum:
    """A fresh thread in a public room on the shared server, and who may use it (`forum`)."""

    server: LiveServer
    api: Api
    admin: User
    room_id: int
    thread_id: int

    @property
    def channel(self) -> str:
        return f"thread:{self.thread_id}"

    @property
    def room_channel(self) -> str:
        return f"room:{self.room_id}"
