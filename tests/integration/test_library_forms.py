"""The library's pages without JavaScript: plain forms and links through the whole workflow,
CSRF on every form, drafts invisible to other members, the review queue for experts only,
and the search page's results, facets and fragment."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx2
import pytest
from support.api import Api, User, hidden_inputs
from support.servers import LiveServer


class Browser:
    """A signed-in (or anonymous) browser without JavaScript: cookies, forms, redirects."""

    def __init__(self, server: LiveServer, user: User | None = None) -> None:
        self.http = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False,
                                  headers={"Origin": server.base_url})
        if user is not None:
            page = self.http.get("/login")
            form = hidden_inputs(page.text)
            form.update(username=user.username, password=user.password)
            r = self.http.post("/login", data=form)
            assert r.status_code == 303, r.text[:300]

    def get(self, path: str, **kw: object) -> httpx2.Response:
        return self.http.get(path, **kw)  # type: ignore[arg-type]

    def submit(self, page_path: str, action: str, fields: dict[str, object]) -> httpx2.Response:
        """Post a form found on `page_path` (its hidden fields, CSRF included) plus `fields`."""
        page = self.http.get(page_path)
        assert page.status_code == 200, (page_path, page.status_code)
        match = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>',
                          page.text, re.DOTALL)
        assert match, f"no form posting to {action} on {page_path}"
        data: dict[str, object] = hidden_inputs(match.group(1))
        data.update(fields)
        return self.http.post(action, data=data)

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def cast(server: LiveServer, api: Api, admin: User) -> Iterator[dict[str, Browser | User]]:
    author, member, expert = api.register(), api.register(), api.register()
    r = api.http.put(f"/api/users/{expert.username}/roles", json={"roles": ["expert"]},
                     headers=admin.auth)
    assert r.status_code == 200
    browsers = {"author": Browser(server, author), "member": Browser(server, member),
                "expert": Browser(server, expert), "anonymous": Browser(server)}
    yield {**browsers, "author_user": author}
    for b in browsers.values():
        b.close()


def test_the_workflow_through_forms(cast: dict) -> None:
    author, member, expert, anonymous = (cast["author"], cast["member"], cast["expert"],
                                         cast["anonymous"])
    word = f"forms{uuid.uuid4().hex[:8]}"
    r = author.submit("/library/new?kind=case_study", "/library/new?kind=case_study", {
        "title": f"Case {word}", "summary": "A summary.", "topics": ["workforce", "finance"],
        "jurisdiction": "Testshire", "level": "regional", "year": "2024",
        "problem": "A problem.", "actions": "Some actions.", "body": "The story.",
        "outcomes": "Time saved | 12.5 | %\nPeople helped | 1,200 | people",
        "contacts": "The team"})
    assert r.status_code == 303, r.text[:500]
    entry_url = r.headers["location"].split("?")[0]
    page = author.get(entry_url)
    assert "12.5%" in page.text and "1,200 people" in page.text and "Draft" in page.text

    # Other members and anonymous visitors cannot tell it exists; experts can read it.
    assert member.get(entry_url).status_code == 404
    assert anonymous.get(entry_url).status_code == 404
    assert expert.get(entry_url).status_code == 200

    # A form without its CSRF token is refused.
    entry_id = entry_url.rsplit("/", 1)[1]
    assert author.http.post(f"{entry_url}/submit", data={}).status_code == 403

    assert author.submit(entry_url, f"{entry_url}/submit", {}).status_code == 303
    queue = expert.get("/library/review")
    assert queue.status_code == 200 and f"Case {word}" in queue.text
    assert member.get("/library/review").status_code == 403
    assert anonymous.get("/library/review").status_code == 303

    r = expert.submit(entry_url, f"{entry_url}/claim", {})
    assert r.status_code == 303
    # Requesting changes needs a comment: the page says so, nothing changes.
    r = expert.submit(entry_url, f"{entry_url}/review", {"decision": "request_changes"})
    assert r.status_code == 422 and "comment" in r.text
    r = expert.submit(entry_url, f"{entry_url}/review",
                      {"decision": "request_changes", "comment": "Add the baseline."})
    assert r.status_code == 303
    assert "Add the baseline." in author.get(entry_url).text

    r = author.submit(f"{entry_url}/edit", f"{entry_url}/edit", {
        "title": f"Case {word}", "summary": "A summary.", "topics": ["workforce"],
        "jurisdiction": "Testshire", "level": "regional", "year": "2024",
        "problem": "A problem, with a baseline.", "actions": "Some actions.",
        "body": "The story.", "outcomes": "Time saved | 12.5 | %", "contacts": ""})
    assert r.status_code == 303, r.text[:500]
    assert author.submit(entry_url, f"{entry_url}/submit", {}).status_code == 303
    assert expert.submit(entry_url, f"{entry_url}/claim", {}).status_code == 303
    r = expert.submit(entry_url, f"{entry_url}/review", {"decision": "approve", "comment": ""})
    assert r.status_code == 303
    public = anonymous.get(entry_url)
    assert public.status_code == 200 and "A problem, with a baseline." in public.text
    assert "reviewed by" in public.text

    # Revision 1 was asked changes on, so the edit made revision 2, which was published. The
    # author starts revision 3; everyone keeps seeing revision 2 meanwhile.
    r = author.submit(f"{entry_url}/edit", f"{entry_url}/edit", {
        "title": f"Case {word} (second edition)", "summary": "A summary.",
        "topics": ["workforce"], "jurisdiction": "Testshire", "level": "regional",
        "year": "2024", "problem": "A problem, with a baseline.", "actions": "Some actions.",
        "body": "The story.", "outcomes": "Time saved | 12.5 | %", "contacts": ""})
    assert r.status_code == 303 and "revision=3" in r.headers["location"]
    assert "second edition" not in anonymous.get(entry_url).text
    assert "second edition" in author.get(f"{entry_url}?revision=3").text
    diff = author.get(f"{entry_url}/diff?from=2&to=3")
    assert diff.status_code == 200 and "<ins>" in diff.text and "second edition" in diff.text
    assert anonymous.get(f"{entry_url}/diff?from=2&to=3").status_code == 404

    mine = author.get("/library/mine")
    assert f"Case {word} (second edition)" in mine.text
    assert f"/library/{entry_id}" not in member.get("/library/mine").text


def test_bad_forms_show_the_error_and_keep_what_was_typed(cast: dict) -> None:
    author = cast["author"]
    r = author.submit("/library/new?kind=article", "/library/new?kind=article", {
        "title": "Kept title", "summary": "", "body": "Body", "topics": ["procurement"]})
    assert r.status_code == 422 and "Kept title" in r.text and "summary" in r.text
    r = author.submit("/library/new?kind=case_study", "/library/new?kind=case_study", {
        "title": "T", "summary": "S", "body": "B", "topics": ["procurement"],
        "jurisdiction": "J", "level": "municipal", "problem": "P", "actions": "A",
        "outcomes": "no pipes here"})
    assert r.status_code == 422 and "label | value | unit" in r.text
    r = author.submit("/library/new?kind=article", "/library/new?kind=article", {
        "title": "T\x00", "summary": "S", "body": "B", "topics": ["procurement"]})
    assert r.status_code == 422
    assert author.get("/library/new?kind=novel").status_code == 200  # asks which kind
    assert author.get("/library/99999999999/edit").status_code == 404


def test_the_search_page_with_and_without_htmx(cast: dict, api: Api) -> None:
    anonymous = cast["anonymous"]
    page = anonymous.get("/library", params={"q": "<script>alert(1)</script>"})
    assert page.status_code == 200 and "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    fragment = anonymous.get("/library", params={"q": "hosting"},
                             headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="library-results"')
    assert "<html" not in fragment.text
    assert 'id="active-filters" hx-swap-oob="true"' in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    # The back button's history restore gets the whole page, not a fragment.
    restore = anonymous.get("/library", params={"q": "hosting"},
                            headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    home = anonymous.get("/library")
    assert home.status_code == 200 and "New in the library" in home.text
    assert 'ws-connect="/ws/html?channel=library:0' in home.text
    showcase = anonymous.get("/case-studies", params={"level": "regional"})
    assert showcase.status_code == 200


def test_featuring_leads_a_moderator_to_the_revision_they_may_see(server: LiveServer, api: Api,
                                                                  admin: User) -> None:
    """A moderator features an entry whose revision 2 is in review: the form's redirect shows
    the published revision (the one in the works would be a 404 to them)."""
    author, expert, moderator = api.register(), api.register(), api.register()
    for user, role in ((expert, "expert"), (moderator, "moderator")):
        r = api.http.put(f"/api/users/{user.username}/roles", json={"roles": [role]},
                         headers=admin.auth)
        assert r.status_code == 200, r.text
    r = api.http.post("/api/library", headers=author.auth, json={
        "kind": "article", "title": "Featured while revised", "summary": "S", "body": "B",
        "topics": ["procurement"]})
    assert r.status_code == 201, r.text
    path = f"/api/library/{r.json()['id']}"
    for who, step, body in ((author, "submit", None), (expert, "claim", None),
                            (expert, "review", {"decision": "approve"})):
        assert api.http.post(f"{path}/{step}", json=body, headers=who.auth).status_code == 200
    assert api.http.put(path, json={"title": "Revised"}, headers=author.auth).status_code == 200
    assert api.http.post(f"{path}/submit", headers=author.auth).status_code == 200

    entry_url = f"/library/{r.json()['id']}"
    browser = Browser(server, moderator)
    try:
        r = browser.submit(entry_url, f"{entry_url}/feature", {"featured": "true"})
        assert r.status_code == 303, r.text[:300]
        page = browser.get(r.headers["location"])
        assert page.status_code == 200, r.headers["location"]
        assert "Featured on the library" in page.text and "Featured while revised" in page.text
    finally:
        browser.close()
