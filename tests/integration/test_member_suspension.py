

def test_admins_manage_members_from_a_page_without_javascript(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    admin = create_admin(server)
    with Api(server.base_url) as api:
        member = api.register(display_name="Mo Member")
        bystander = api.register()
    admin_page, member_page = browser_of(server, admin), browser_of(server, bystander)
    try:
        # Only admins: a member is refused, a visitor sent to sign in.
        assert member_page.get("/admin/members").status_code == 403
        with httpx2.Client(base_url=server.base_url, trust_env=False) as visitor:
            assert visitor.get("/admin/members").status_code == 303
        found = admin_page.get("/admin/members", params={"q": "mo memb"})
        assert found.status_code == 200 and member.username in found.text
        assert bystander.username not in found.text
        csrf = hidden_inputs(found.text)["csrf_token"]
        path = f"/admin/members/{member.username}"

        r = admin_page.post(path, data={"csrf_token": csrf, "action": "roles",
                                        "expert": "on", "moderator": "on", "q": "mo memb"})
        assert r.status_code == 303 and "done=" in r.headers["location"]
        assert api.me(member.token)["roles"] == ["member", "expert", "moderator"]
        shown = admin_page.get(r.headers["location"]).text
        assert f"Roles of {member.username} saved." in shown
        r = admin_page.post(path, data={"csrf_token": csrf, "action": "roles", "expert": "on"})
        assert api.me(member.token)["roles"] == ["member", "expert"]

        r = admin_page.post(path, data={"csrf_token": csrf, "action": "suspend"})
        assert r.status_code == 303
        assert api.http.get("/api/me", headers=member.auth).status_code == 401
        assert "Suspended</span>" in admin_page.get("/admin/members?q=mo+memb").text
        assert api.token_raw(member.username, member.password).status_code == 403
        r = admin_page.post(path, data={"csrf_token": csrf, "action": "unsuspend"})
        assert r.status_code == 303
        assert api.token_raw(member.username, member.password).status_code == 201

        # An admin cannot suspend themself here either; a form without its token is refused.
        own = admin_page.post(f"/admin/members/{admin.username}",
                              data={"csrf_token": csrf, "action": "suspend"})
        assert own.status_code == 409 and "cannot suspend themselves" in own.text
        assert admin_page.post(path, data={"action": "suspend"}).status_code == 403
        assert member_page.post(path, data={
            "csrf_token": hidden_inputs(member_page.get("/rooms").text)["csrf_token"],
            "action": "suspend"}).status_code == 403
        assert api.token_raw(member.username, member.password).status_code == 201
    finally:
        admin_page.close()
        member_page.close()
