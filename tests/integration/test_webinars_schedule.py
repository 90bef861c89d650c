"""The schedule over HTTP: creating, listing, registering under a capacity, calendar files; and
the live room on two processes over Redis, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from icalendar import Calendar
from support.api import Api, User, create_admin
from support.servers import LiveServer, ServerFactory
from support.services import RedisServer
from support.webinars import at, create_webinar, give_roles, host_webinar, members
from support.wsclient import WSClient


def test_who_may_schedule_and_what_is_checked(server: LiveServer, api: Api, admin: User) -> None:
    member, expert = members(server, 2)
    r = api.http.post("/api/webinars", json={"title": "Mine", "starts_at": at(60)},
                      headers=member.auth)
    assert r.status_code == 403
    assert api.http.post("/api/webinars", json={"title": "x", "starts_at": at(60)}).status_code \
        == 401
    give_roles(api, admin, expert, ["expert"])
    made = create_webinar(api, expert.token, title="Tenders 101", starts_at="2030-04-10T14:00",
                          timezone="Europe/Paris", speakers=["Ana", "Ben"], capacity=50,
                          description="**Bold** <script>alert(1)</script>")
    # A wall-clock time in the given zone: 14:00 in Paris on 10 April 2030 (summer time) is 12:00Z.
    assert (made["starts_at"], made["ends_at"]) == ("2030-04-10T12:00:00Z", "2030-04-10T13:00:00Z")
    assert made["local_starts_at"] == "2030-04-10T14:00:00+02:00"
    assert made["host"]["id"] == expert.id and made["speakers"] == ["Ana", "Ben"]
    assert "<strong>Bold</strong>" in made["description_html"]
    assert "<script" not in made["description_html"]
    for bad in [{"title": "", "starts_at": at(60)}, {"title": "t"},
                {"title": "t", "starts_at": "tomorrow"},
                {"title": "t", "starts_at": at(60), "ends_at": at(30)},
                {"title": "t", "starts_at": at(60), "ends_at": at(60 * 24 * 30)},
                {"title": "t", "starts_at": "2030-03-31T02:30", "timezone": "Europe/Paris"},
                {"title": "t", "starts_at": at(60), "timezone": "Mars/Olympus"},
                {"title": "t", "starts_at": at(60), "timezone": "../../etc/passwd"},
                {"title": "t\x00", "starts_at": at(60)},
                {"title": "t", "starts_at": at(60), "capacity": 0},
                {"title": "t", "starts_at": at(60), "capacity": 10**12},
                {"title": "t", "starts_at": at(60), "link": "javascript:alert(1)"},
                {"title": "t", "starts_at": at(60), "visibility": "secret"},
                {"title": "t", "starts_at": at(60), "speakers": "Ana"}]:
        r = api.http.post("/api/webinars", json=bad, headers=expert.auth)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid"


def test_upcoming_and_past_lists_and_members_only_webinars(
    server: LiveServer, api: Api, admin: User
) -> None:
    soon = create_webinar(api, admin.token, starts_at=at(60 * 24 * 365 * 3), title="Far future")
    hidden = create_webinar(api, admin.token, starts_at=at(60 * 24 * 365 * 3),
                            title="Members' clinic", visibility="members")
    past = create_webinar(api, admin.token, starts_at=at(-180), ends_at=at(-120), title="Done")
    anon = [w["id"] for w in api.http.get("/api/webinars?limit=200").json()["webinars"]]
    assert soon["id"] in anon and hidden["id"] not in anon and past["id"] not in anon
    signed = api.http.get("/api/webinars?limit=200", headers=admin.auth).json()
    assert hidden["id"] in [w["id"] for w in signed["webinars"]]
    starts = [w["starts_at"] for w in signed["webinars"]]
    assert starts == sorted(starts)
    old = api.http.get("/api/webinars?when=past", headers=admin.auth).json()
    assert past["id"] in [w["id"] for w in old["webinars"]]
    assert api.http.get(f"/api/webinars/{hidden['id']}").status_code == 401
    assert api.http.get("/api/webinars/999999999").status_code == 404
    assert api.http.get("/api/webinars?when=later").status_code == 422
    assert api.http.get("/api/webinars?offset=-1").status_code == 422
    page = api.http.get("/webinars")
    assert page.status_code == 200 and "Far future" in page.text and "Members' clinic" not in page.text


def test_capacity_holds_when_many_register_at_once(server: LiveServer, api: Api,
                                                   admin: User) -> None:
    web = create_webinar(api, admin.token, capacity=5, link="https://meet.example.org/room")
    crowd = members(server, 20)

    def register(user: User) -> int:
        with Api(server.base_url) as own:
            return own.http.post(f"/api/webinars/{web['id']}/register",
                                 headers=user.auth).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(register, crowd))
    assert sorted(codes) == [201] * 5 + [409] * 15
    view = api.http.get(f"/api/webinars/{web['id']}").json()
    assert (view["registered_count"], view["seats_left"]) == (5, 0)
    # Only registered attendees see the stream link.
    winners = [u for u, c in zip(crowd, codes, strict=True) if c == 201]
    losers = [u for u, c in zip(crowd, codes, strict=True) if c == 409]
    mine = api.http.get(f"/api/webinars/{web['id']}", headers=winners[0].auth).json()
    assert mine["registered"] is True and mine["link"] == "https://meet.example.org/room"
    assert api.http.get(f"/api/webinars/{web['id']}", headers=losers[0].auth).json()["link"] \
        is None
    # Registering again changes nothing; cancelling frees a seat for someone else.
    assert api.http.post(f"/api/webinars/{web['id']}/register",
                         headers=winners[0].auth).status_code == 200
    assert api.http.delete(f"/api/webinars/{web['id']}/register",
                           headers=winners[0].auth).status_code == 204
    assert api.http.delete(f"/api/webinars/{web['id']}/register",
                           headers=winners[0].auth).status_code == 404
    assert api.http.post(f"/api/webinars/{web['id']}/register",
                         headers=losers[0].auth).status_code == 201
    assert api.http.get(f"/api/webinars/{web['id']}").json()["registered_count"] == 5


def _calendar(text: bytes) -> Calendar:
    return Calendar.from_ical(text)


def test_calendar_files_parse_with_utc_times(server: LiveServer, api: Api, admin: User) -> None:
    made = create_webinar(api, admin.token, title="Budgets; commas, and \\ slashes",
                          starts_at="2031-01-15T09:30", ends_at="2031-01-15T11:00",
                          timezone="America/New_York",
                          description="Line **one**\nLine [two](https://example.org/two)",
                          speakers=["Priya"])
    past = create_webinar(api, admin.token, starts_at=at(-180), ends_at=at(-120))
    hidden = create_webinar(api, admin.token, starts_at=at(600), visibility="members")
    r = api.http.get(f"/webinars/{made['id']}.ics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    cal = _calendar(r.content)
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"webinar-{made['id']}@127.0.0.1"
    assert str(event["SUMMARY"]) == "Budgets; commas, and \\ slashes"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    # 09:30 in New York in January is 14:30 UTC; written in UTC (a trailing Z).
    assert start == dt.datetime(2031, 1, 15, 14, 30, tzinfo=dt.UTC)
    assert end == dt.datetime(2031, 1, 15, 16, 0, tzinfo=dt.UTC)
    assert "DTSTART:20310115T143000Z" in r.text.replace("\r\n", "\n")
    # The description as text, not Markdown: a link keeps its address after its words.
    assert str(event["DESCRIPTION"]).startswith(
        "Line one\nLine two (https://example.org/two)\n\nSpeakers: Priya"), event["DESCRIPTION"]
    assert f"/webinars/{made['id']}" in str(event["URL"])

    feed = _calendar(api.http.get("/webinars.ics").content)
    uids = {str(e["UID"]) for e in feed.walk("VEVENT")}
    assert f"webinar-{made['id']}@127.0.0.1" in uids
    assert f"webinar-{past['id']}@127.0.0.1" not in uids
    assert f"webinar-{hidden['id']}@127.0.0.1" not in uids
    for e in feed.walk("VEVENT"):
        assert e.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    # A members-only file asked for anonymously is a page: to the sign-in page, with a way back.
    refused = api.http.get(f"/webinars/{hidden['id']}.ics")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login?next=")
    assert api.http.get("/webinars/999999999.ics").status_code == 404


@pytest.mark.anyio
async def test_two_processes_agree_on_mutes_slow_mode_and_votes(
    live_server: ServerFactory, redis_server: RedisServer, database_url: str
) -> None:
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    host_user = create_admin(a)  # registering makes no admin; hosts here need the role
    with Api(a.base_url) as api:
        web = host_webinar(api, host_user)
    speaker, voter = members(a, 2)
    host = await WSClient.connect(a.ws_url, token=host_user.token, name="host on A")
    on_b = await WSClient.connect(b.ws_url, token=speaker.token, name="speaker on B")
    voter_b = await WSClient.connect(b.ws_url, token=voter.token, name="voter on B")
    try:
        for s in (host, on_b, voter_b):
            await s.join_ok(web.channel)
        asked = await on_b.send_action(web.channel, "question.ask", {"body": "From B?"})
        qid = asked["data"]["id"]
        assert (await voter_b.send_action(web.channel, "question.upvote",
                                          {"question_id": qid}))["op"] == "ack"
        again = await voter_b.send_action(web.channel, "question.upvote", {"question_id": qid})
        assert again["code"] == "conflict"
        poll = await host.send_action(web.channel, "poll.create",
                                      {"question": "A or B?", "options": ["A", "B"]})
        for option in (0, 1):
            vote = await voter_b.send_action(web.channel, "poll.vote",
                                             {"poll_id": poll["data"]["id"], "option": option})
            assert vote["op"] == "ack", vote
        # Slow mode set on A holds for a member on B.
        assert (await host.send_action(web.channel, "chat.slow_mode", {"seconds": 30}))["op"] \
            == "ack"
        assert (await on_b.send_action(web.channel, "chat.send", {"body": "one"}))["op"] == "ack"
        late = await on_b.send_action(web.channel, "chat.send", {"body": "two"})
        assert late["code"] == "rate_limited", late
        # A mute made on A holds on B at once.
        await host.send_action(web.channel, "chat.slow_mode", {"seconds": 0})
        assert (await host.send_action(web.channel, "member.mute",
                                       {"user_id": speaker.id}))["op"] == "ack"
        muted = await on_b.send_action(web.channel, "chat.send", {"body": "still me"})
        assert muted["code"] == "forbidden", muted
        events = await host.events_until(web.channel, 9, timeout=15)
        assert [e["type"] for e in events] == [
            "question.asked", "question.voted", "poll.created", "poll.results", "poll.results",
            "chat.slow_mode", "chat.message", "chat.slow_mode", "member.muted"]
        assert events[4]["data"]["counts"] == [0, 1]
        with Api(b.base_url) as api_b:
            room = api_b.http.get(f"/api/webinars/{web.id}").json()
        assert [q["votes"] for q in room["questions"]] == [1]
    finally:
        for s in (host, on_b, voter_b):
            await s.close()


@pytest.mark.anyio
async def test_a_webinar_made_members_only_drops_its_anonymous_readers_in_every_process(
    live_server: ServerFactory, redis_server: RedisServer, database_url: str
) -> None:
    """Anonymous readers who joined while it was public stop hearing the room, on the process
    that made the change and on the other one (whose cached visibility said "public")."""
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    admin = create_admin(a)
    with Api(a.base_url) as api:
        web = host_webinar(api, admin)
        member = api.register()
    readers = [await WSClient.connect(server.ws_url, name=f"anonymous on {name}")
               for server, name in ((a, "A"), (b, "B"))]
    talker = await WSClient.connect(b.ws_url, token=member.token, name="member on B")
    try:
        for s in (*readers, talker):
            await s.join_ok(web.channel)
        before = await talker.send_action(web.channel, "chat.send", {"body": "Still public"})
        for s in (*readers, talker):
            [event] = await s.events(web.channel, 1)
            assert event["seq"] == before["seq"]
        with Api(a.base_url) as api:
            r = api.http.patch(f"/api/webinars/{web.id}", json={"visibility": "members"},
                               headers=admin.auth)
            assert r.status_code == 200, r.text
        for reader in readers:
            told = await reader.wait_for(lambda f: f.get("op") == "error", timeout=10,
                                         what="the notice that access ended")
            assert f"no longer have access to {web.channel}" in told["message"], told
            again = await reader.join(web.channel)
            assert (again["op"], again.get("code")) == ("error", "unauthenticated"), again
        sent = await talker.send_action(web.channel, "chat.send", {"body": "Members only now"})
        assert sent["op"] == "ack", sent
        [event] = await talker.events(web.channel, 1)  # members still follow it
        assert event["data"]["body"] == "Members only now"
        for reader in readers:
            await reader.ping()  # anything for them would have been queued before the pong
            heard = [f for f in reader.history if f.get("op") == "event"
                     and f.get("seq", 0) > before["seq"]]
            assert heard == [], heard
    finally:
        for s in (*readers, talker):
            await s.close()


_PROPERTY_LINE = re.compile(r"[A-Z][A-Z0-9-]*(;[^:\r\n]*)?:")


def _lines_a_lax_parser_sees(text: str) -> list[str]:
    """The lines of a calendar as a parser that splits on any line break sees them (CR alone,
    LF alone, and what Python's splitlines takes for one), after unfolding (RFC 5545, 3.1)."""
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    return [line for line in unfolded.splitlines() if line]


def test_line_breaks_and_control_characters_never_reach_a_calendar_line(
        server: LiveServer, api: Api, admin: User) -> None:
    """Issue 21, item 9: a bare CR in a title was written as-is into X-WR-CALNAME, so a parser
    splitting on CR saw injected `BEGIN:VEVENT`/`UID:` lines; an LF crashed the writer."""
    injected = "\rEND:VEVENT\rBEGIN:VEVENT\rUID:evil@attacker\rSUMMARY:Injected\r"
    titles = [f"Budgets{injected}2031", "Budgets\nUID:evil-lf@attacker",
              "Budgets\r\nUID:evil-crlf@attacker", "Budgets\x0bUID:evil-vt@attacker",
              "Budgets\u2028UID:evil-ls@attacker\x85UID:evil-nel@attacker\x1c\x7f"]
    made = [create_webinar(api, admin.token, title=title, starts_at=at(60 * 24 * 400 + n),
                           description=f"One{injected}two\r\nthree\x0bfour\u2029five")
            for n, title in enumerate(titles)]
    expected = dict(zip(titles, [
        "Budgets END:VEVENT BEGIN:VEVENT UID:evil@attacker SUMMARY:Injected 2031",
        "Budgets UID:evil-lf@attacker", "Budgets UID:evil-crlf@attacker",
        "Budgets UID:evil-vt@attacker", "Budgets UID:evil-ls@attacker UID:evil-nel@attacker "],
        strict=True))
    feed = api.http.get("/webinars.ics")
    assert feed.status_code == 200
    for webinar, title in zip(made, titles, strict=True):
        r = api.http.get(f"/webinars/{webinar['id']}.ics")
        assert r.status_code == 200, r.text[:300]
        for text in (r.text, feed.text):
            lines = _lines_a_lax_parser_sees(text)
            bad = [line for line in lines if not _PROPERTY_LINE.match(line)]
            assert not bad, bad
            assert not [line for line in lines if line.startswith("UID:evil")], lines
            assert "SUMMARY:Injected" not in lines
        lax = _lines_a_lax_parser_sees(r.text)
        assert lax.count("BEGIN:VEVENT") == 1 and lax.count("END:VEVENT") == 1, lax
        [event] = Calendar.from_ical(r.content).walk("VEVENT")
        assert str(event["UID"]) == f"webinar-{webinar['id']}@127.0.0.1"
        # The words are kept, as text on one line: every break is a space.
        summary = str(event["SUMMARY"])
        assert summary == expected[title], repr(summary)
        assert str(Calendar.from_ical(r.content)["X-WR-CALNAME"]) == summary
        # A description is its rendered text: its line breaks stay (LF, written as the escape
        # \n); VT and PARAGRAPH SEPARATOR, which Markdown reads as spaces, are spaces.
        assert str(event["DESCRIPTION"]).startswith(
            "One\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil@attacker\nSUMMARY:Injected\n"
            "two\nthree four five\n\nDetails and registration: "), repr(event["DESCRIPTION"])
    assert len(Calendar.from_ical(feed.content).walk("VEVENT")) >= len(made)
