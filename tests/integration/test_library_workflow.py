"""The library's review workflow over the JSON API, with the roles checked at every step
(PROTOCOL.md, Library): draft → submitted → in review (an expert, not the author) → changes
requested or published; a published entry's next revision is reviewed while the old one stays
visible; drafts are invisible to other members; publishing is announced on the hub."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
import pytest
from support.api import Api, User, assert_error_shape
from support.servers import LiveServer
from support.wsclient import WSClient


def grant(api: Api, admin: User, user: User, *roles: str) -> None:
    r = api.http.put(f"/api/users/{user.username}/roles", json={"roles": list(roles)},
                     headers=admin.auth)
    assert r.status_code == 200, r.text


def call(api: Api, method: str, path: str, user: User | None = None,
         body: Any = None) -> httpx2.Response:
    return api.http.request(method, path, json=body, headers=user.auth if user else None)


def ok(response: httpx2.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"expected {status}: {response.text[:500]}")
    return dict(response.json())


def refused(response: httpx2.Response, status: int, code: str) -> str:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"expected {status}: {response.text[:300]}")
    error = assert_error_shape(response)
    assert error["code"] == code, error
    return str(error["message"])


def new_article(word: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "article", "title": f"Buying cloud hosting {word}",
            "summary": f"How one council bought hosting through a framework ({word}).",
            "body": f"We compared three frameworks. The marker word is {word}.",
            "topics": ["procurement", "digital-services"], **fields}


def search_ids(api: Api, q: str) -> list[int]:
    body = ok(call(api, "GET", f"/api/library?q={q}"))
    return [r["id"] for r in body["results"]]


@pytest.fixture(scope="module")
def people(api: Api, admin: User) -> dict[str, User]:
    """An author, another member, two experts, and an author who is an expert too."""
    made = {name: api.register() for name in ("author", "member", "expert", "expert2",
                                              "expert_author")}
    for name in ("expert", "expert2", "expert_author"):
        grant(api, admin, made[name], "expert")
    return made


def test_the_whole_workflow_with_role_checks_at_each_step(api: Api,
                                                          people: dict[str, User]) -> None:
    author, member, expert, expert2 = (people["author"], people["member"], people["expert"],
                                       people["expert2"])
    word = f"w{uuid.uuid4().hex[:10]}"
    created = ok(call(api, "POST", "/api/library", author, new_article(word)), 201)
    entry_id = created["id"]
    path = f"/api/library/{entry_id}"
    assert created["state"] == "draft" and created["revision"] == 1
    assert [h["action"] for h in created["history"]] == ["create"]

    # A draft: its author and experts see it; nobody else can tell it exists.
    refused(call(api, "GET", path), 404, "not_found")
    refused(call(api, "GET", path, member), 404, "not_found")
    assert ok(call(api, "GET", path, expert))["title"] == f"Buying cloud hosting {word}"
    assert search_ids(api, word) == []
    refused(call(api, "PUT", path, member, {"title": "Taken over"}), 404, "not_found")
    refused(call(api, "PUT", path, expert, {"title": "Taken over"}), 403, "forbidden")
    refused(call(api, "POST", f"{path}/submit", member), 404, "not_found")
    refused(call(api, "POST", f"{path}/submit", expert), 403, "forbidden")

    # Not submitted yet: nothing to claim or review.
    refused(call(api, "POST", f"{path}/claim", expert), 409, "conflict")
    refused(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}), 409,
            "conflict")

    assert ok(call(api, "POST", f"{path}/submit", author, {"comment": "Ready"}))["state"] \
        == "submitted"
    refused(call(api, "POST", f"{path}/submit", author), 409, "conflict")  # twice
    refused(call(api, "PUT", path, author, {"title": "Edited while waiting"}), 409, "conflict")

    # Only an expert claims, never the author; one expert wins.
    refused(call(api, "POST", f"{path}/claim", author), 403, "forbidden")
    refused(call(api, "POST", f"{path}/claim", member), 404, "not_found")
    refused(call(api, "POST", f"{path}/claim"), 401, "unauthenticated")
    assert ok(call(api, "POST", f"{path}/claim", expert))["state"] == "in_review"
    refused(call(api, "POST", f"{path}/claim", expert2), 409, "conflict")

    # Only the claiming expert decides; the author never approves.
    refused(call(api, "POST", f"{path}/review", author, {"decision": "approve"}), 403,
            "forbidden")
    refused(call(api, "POST", f"{path}/review", expert2, {"decision": "approve"}), 403,
            "forbidden")
    refused(call(api, "POST", f"{path}/review", expert, {"decision": "publish"}), 422,
            "invalid")
    refused(call(api, "POST", f"{path}/review", expert, {"decision": "request_changes"}),
            422, "invalid")  # a request for changes says which
    changes = ok(call(api, "POST", f"{path}/review", expert,
                      {"decision": "request_changes", "comment": "Name the frameworks."}))
    assert changes["state"] == "changes_requested"
    refused(call(api, "GET", path), 404, "not_found")

    edited = ok(call(api, "PUT", path, author,
                     {"body": f"We compared G-Cloud, DOS and a local one. {word}."}))
    # The revision the expert read is kept: the first edit after their decision starts
    # revision 2, and later edits change revision 2.
    assert edited["state"] == "changes_requested" and edited["revision"] == 2
    assert edited["title"] == f"Buying cloud hosting {word}"  # fields not sent stay
    ok(call(api, "POST", f"{path}/submit", author))
    ok(call(api, "POST", f"{path}/claim", expert2))
    published = ok(call(api, "POST", f"{path}/review", expert2,
                        {"decision": "approve", "comment": "Clear and useful."}))
    assert published["state"] == "published"
    refused(call(api, "POST", f"{path}/review", expert2, {"decision": "approve"}), 409,
            "conflict")  # twice

    # Published: public, searchable, with its whole history kept for author and experts.
    public = ok(call(api, "GET", path))
    assert public["state"] == "published" and public["revision"] == 2
    assert public["reviewed_by"]["username"] == expert2.username
    assert "history" not in public and "G-Cloud" in public["body_html"]
    assert [r["number"] for r in public["revisions"]] == [2]
    assert search_ids(api, word) == [entry_id]
    history = ok(call(api, "GET", path, author))["history"]
    assert [(h["action"], h["to_state"]) for h in history] == [
        ("create", "draft"), ("submit", "submitted"), ("claim", "in_review"),
        ("request_changes", "changes_requested"), ("revise", "changes_requested"),
        ("submit", "submitted"), ("claim", "in_review"), ("approve", "approved"),
        ("publish", "published")]
    comments = [h["comment"] for h in history if h["comment"]]
    assert comments == ["Ready", "Name the frameworks.", "Clear and useful."]
    assert history[3]["actor"]["username"] == expert.username


def test_a_published_revision_under_review_keeps_the_old_one_visible(
        api: Api, people: dict[str, User]) -> None:
    author, member, expert = people["author"], people["member"], people["expert"]
    old_word, new_word = f"o{uuid.uuid4().hex[:10]}", f"n{uuid.uuid4().hex[:10]}"
    entry_id = ok(call(api, "POST", "/api/library", author, new_article(old_word)), 201)["id"]
    path = f"/api/library/{entry_id}"
    for step, who in (("submit", author), ("claim", expert)):
        ok(call(api, "POST", f"{path}/{step}", who))
    ok(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}))

    revised = ok(call(api, "PUT", path, author, {"title": f"Hosting, revised {new_word}",
                                                 "summary": f"Now with prices {new_word}.",
                                                 "body": "We compared three frameworks."}))
    assert revised["revision"] == 2 and revised["state"] == "draft"
    for step, who in (("submit", author), ("claim", expert)):
        ok(call(api, "POST", f"{path}/{step}", who))

    # Everyone still sees revision 1, finds it by its old words and not by the new ones.
    published_at = ok(call(api, "GET", path))["published_at"]
    for viewer in (None, member):
        shown = ok(call(api, "GET", path, viewer))
        assert shown["revision"] == 1 and shown["title"] == f"Buying cloud hosting {old_word}"
        # The revision in the works exists only for its author and reviewers: not even its
        # number, state or last change show (PROTOCOL.md, Library: who sees what).
        assert (shown["state"], shown["latest_revision"], shown["updated_at"]) \
            == ("published", 1, published_at)
        assert "reviewer" not in shown and "history" not in shown
        assert [r["number"] for r in shown["revisions"]] == [1]
        refused(call(api, "GET", f"{path}?revision=2", viewer), 404, "not_found")
        refused(call(api, "GET", f"{path}/diff?from=1&to=2", viewer), 404, "not_found")
    assert search_ids(api, old_word) == [entry_id] and search_ids(api, new_word) == []

    # Its reviewer compares the two.
    diff = ok(call(api, "GET", f"{path}/diff?from=1&to=2", expert))
    fields = {c["field"]: c for c in diff["changes"]}
    assert set(fields) == {"title", "summary", "body"}
    inserted = "".join(op["text"] for op in fields["title"]["ops"] if op["op"] == "insert")
    deleted = "".join(op["text"] for op in fields["title"]["ops"] if op["op"] == "delete")
    assert new_word in inserted and old_word in deleted and "cloud" not in inserted
    assert ok(call(api, "GET", f"{path}?revision=2", expert))["title"] \
        == f"Hosting, revised {new_word}"

    ok(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}))
    shown = ok(call(api, "GET", path))
    assert shown["revision"] == 2 and shown["title"] == f"Hosting, revised {new_word}"
    assert [r["number"] for r in shown["revisions"]] == [1, 2]
    assert all(r["published_at"] for r in shown["revisions"])
    assert ok(call(api, "GET", f"{path}?revision=1"))["title"] \
        == f"Buying cloud hosting {old_word}"
    assert ok(call(api, "GET", f"{path}/diff?from=1&to=2"))["changes"]
    assert search_ids(api, new_word) == [entry_id] and search_ids(api, old_word) == []


def test_an_expert_author_cannot_review_their_own_entry(api: Api,
                                                        people: dict[str, User]) -> None:
    writer, expert = people["expert_author"], people["expert"]
    entry_id = ok(call(api, "POST", "/api/library", writer,
                       new_article(uuid.uuid4().hex[:8])), 201)["id"]
    path = f"/api/library/{entry_id}"
    ok(call(api, "POST", f"{path}/submit", writer))
    refused(call(api, "POST", f"{path}/claim", writer), 403, "forbidden")
    ok(call(api, "POST", f"{path}/claim", expert))
    refused(call(api, "POST", f"{path}/review", writer, {"decision": "approve"}), 403,
            "forbidden")
    # The author may take it back while it is with a reviewer; then it is a draft again.
    assert ok(call(api, "POST", f"{path}/withdraw", writer))["state"] == "draft"
    refused(call(api, "POST", f"{path}/withdraw", writer), 409, "conflict")


def test_featuring_answers_the_entry(api: Api, people: dict[str, User]) -> None:
    writer, expert = people["author"], people["expert"]
    entry_id = ok(call(api, "POST", "/api/library", writer,
                       new_article(uuid.uuid4().hex[:8])), 201)["id"]
    path = f"/api/library/{entry_id}"
    ok(call(api, "POST", f"{path}/submit", writer))
    ok(call(api, "POST", f"{path}/claim", expert))
    ok(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}))
    answer = ok(call(api, "POST", f"{path}/feature", expert, {"featured": True}))
    assert answer["id"] == entry_id and answer["featured"] is True
    assert answer["state"] == "published" and answer["title"]
    assert ok(call(api, "GET", path))["featured"] is True


def test_a_moderator_featuring_an_entry_under_revision_sees_the_published_one(
        api: Api, admin: User, people: dict[str, User]) -> None:
    """Issue 21, item 7: the answer was 404 "entry N has no revision 2 you may see", which told
    a moderator (not a reviewer) that a draft revision exists."""
    writer, expert = people["author"], people["expert"]
    moderator = api.register()
    grant(api, admin, moderator, "moderator")
    word = uuid.uuid4().hex[:8]
    entry_id = ok(call(api, "POST", "/api/library", writer, new_article(word)), 201)["id"]
    path = f"/api/library/{entry_id}"
    for step, who in (("submit", writer), ("claim", expert)):
        ok(call(api, "POST", f"{path}/{step}", who))
    ok(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}))
    ok(call(api, "PUT", path, writer, {"title": f"Secret draft title {word}"}))
    shown_before = ok(call(api, "GET", path, moderator))
    for featured in (True, False):
        answer = ok(call(api, "POST", f"{path}/feature", moderator, {"featured": featured}))
        assert answer["featured"] is featured and answer["revision"] == 1
        assert (answer["state"], answer["latest_revision"]) == ("published", 1)
        assert "Secret draft" not in str(answer)
        assert {k: v for k, v in answer.items() if k != "featured"} \
            == {k: v for k, v in shown_before.items() if k != "featured"}
    # The author still gets the revision in the works back, as from every other step.
    mine = ok(call(api, "GET", f"{path}?revision=2", writer))
    assert mine["title"] == f"Secret draft title {word}"
    # Asking for it by number tells nothing either: a revision that does not exist answers
    # the same words.
    hidden = refused(call(api, "GET", f"{path}?revision=2", moderator), 404, "not_found")
    missing = refused(call(api, "GET", f"{path}?revision=3", moderator), 404, "not_found")
    assert hidden.replace("revision 2", "revision N") == missing.replace("revision 3", "revision N")


def test_lists_my_drafts_and_the_review_queue(api: Api, people: dict[str, User]) -> None:
    author, member, expert = people["author"], people["member"], people["expert"]
    entry_id = ok(call(api, "POST", "/api/library", author,
                       new_article(uuid.uuid4().hex[:8])), 201)["id"]
    assert entry_id in [e["id"] for e in ok(call(api, "GET", "/api/library/mine", author))
                        ["entries"]]
    assert entry_id not in [e["id"] for e in ok(call(api, "GET", "/api/library/mine",
                                                     member))["entries"]]
    refused(call(api, "GET", "/api/library/queue", member), 403, "forbidden")
    ok(call(api, "POST", f"/api/library/{entry_id}/submit", author))
    queue = ok(call(api, "GET", "/api/library/queue", expert))
    assert entry_id in [e["id"] for e in queue["waiting"]]
    ok(call(api, "POST", f"/api/library/{entry_id}/claim", expert))
    queue = ok(call(api, "GET", "/api/library/queue", expert))
    assert entry_id in [e["id"] for e in queue["mine"]]
    assert entry_id not in [e["id"] for e in queue["waiting"]]


@pytest.mark.anyio
async def test_publishing_is_announced_on_the_feed_and_to_the_author(
        server: LiveServer, api: Api, people: dict[str, User]) -> None:
    author, expert = people["author"], people["expert"]
    entry_id = ok(call(api, "POST", "/api/library", author,
                       new_article(uuid.uuid4().hex[:8])), 201)["id"]
    path = f"/api/library/{entry_id}"
    async with await WSClient.connect(server.ws_url, name="reader") as reader, \
            await WSClient.connect(server.ws_url, token=author.token, name="author") as mine:
        await reader.join_ok("library:0")
        await mine.join_ok(f"user:{author.id}")
        assert (await reader.join("library:1"))["code"] == "not_found"
        for step, who in (("submit", author), ("claim", expert)):
            ok(call(api, "POST", f"{path}/{step}", who))
        ok(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}))
        [event] = await reader.events("library:0", 1, type="entry.published")
        assert event["data"]["id"] == entry_id and event["data"]["url"] == f"/library/{entry_id}"
        assert event["data"]["author"]["username"] == author.username
        assert event["actor"]["username"] == expert.username
        [note] = await mine.events(f"user:{author.id}", 1, type="notification")
        assert note["data"]["url"] == f"/library/{entry_id}" and "published" in note["data"]["text"]


def test_a_re_review_is_offered_what_changed_since_the_last_decision(
        api: Api, people: dict[str, User]) -> None:
    author, expert = people["author"], people["expert"]
    word = f"w{uuid.uuid4().hex[:10]}"
    entry_id = ok(call(api, "POST", "/api/library", author, new_article(word)), 201)["id"]
    path = f"/api/library/{entry_id}"
    ok(call(api, "POST", f"{path}/submit", author))
    ok(call(api, "POST", f"{path}/claim", expert))
    ok(call(api, "POST", f"{path}/review", expert,
            {"decision": "request_changes", "comment": "Say which councils."}))
    assert ok(call(api, "PUT", path, author, {"summary": "Three councils compared."}))[
        "revision"] == 2
    assert ok(call(api, "PUT", path, author, {"body": f"Leeds, York and Hull. {word}."}))[
        "revision"] == 2  # the same new revision, until a reviewer decides on it
    ok(call(api, "POST", f"{path}/submit", author))
    ok(call(api, "POST", f"{path}/claim", expert))
    changes = ok(call(api, "GET", f"{path}/diff?from=1&to=2", expert))["changes"]
    assert {c["field"] for c in changes} >= {"summary", "body"}
    with Api(str(api.http.base_url).rstrip("/")) as page:
        page.login_session(expert.username, expert.password)
        text = page.http.get(f"/library/{entry_id}").text
    assert ("You last reviewed revision 1: <a href=\"/library/"
            f"{entry_id}/diff?from=1&amp;to=2\">see what changed since then</a>") in text
    # Once revision 2 is published, revision 1 (asked changes on, never published) stays
    # the author's and reviewers': the public sees neither it nor a diff from it.
    ok(call(api, "POST", f"{path}/review", expert, {"decision": "approve"}))
    public = ok(call(api, "GET", path))
    assert public["revision"] == 2 and [r["number"] for r in public["revisions"]] == [2]
    for who in (None, people["member"]):
        refused(call(api, "GET", f"{path}?revision=1", who), 404, "not_found")
        refused(call(api, "GET", f"{path}/diff?from=1&to=2", who), 404, "not_found")
    assert ok(call(api, "GET", f"{path}?revision=1", expert))["revision"] == 1
