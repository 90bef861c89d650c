"""Admins change roles over the API; everyone else is refused; the change takes effect."""

from __future__ import annotations

import httpx2
from support.api import Api, create_admin
from support.servers import ServerFactory


def test_an_admin_makes_a_member_a_moderator_who_may_then_create_rooms(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        admin, member, other = create_admin(server), api.register(), api.register()
    with httpx2.Client(base_url=server.base_url) as http:
        def put(token: str, username: str, body: object) -> httpx2.Response:
            return http.put(f"/api/users/{username}/roles", json=body,
                            headers={"authorization": f"Bearer {token}"})

        refused = http.post("/api/rooms", json={"name": "Not yet"},
                            headers={"authorization": f"Bearer {member.token}"})
        assert refused.status_code == 403
        assert put(other.token, member.username, {"roles": ["moderator"]}).status_code == 403
        bad = put(admin.token, member.username, {"roles": ["emperor"]})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
        assert put(admin.token, "nobody-here", {"roles": []}).status_code == 404
        assert put(admin.token, admin.username, {"roles": []}).status_code == 409

        done = put(admin.token, member.username, {"roles": ["moderator"]})
        assert done.status_code == 200
        assert done.json()["roles"] == ["member", "moderator"]
        created = http.post("/api/rooms", json={"name": "Moderated now"},
                            headers={"authorization": f"Bearer {member.token}"})
        assert created.status_code == 201
        me = http.get("/api/me", headers={"authorization": f"Bearer {member.token}"})
        assert me.json()["roles"] == ["member", "moderator"]
