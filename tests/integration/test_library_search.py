"""Search of the seeded library on SQLite (FTS5) and on PostgreSQL (tsvector): the expected
entry comes first for real queries, filters and facets agree, snippets mark the words and
escape everything else, the site-wide box finds forum threads the viewer may read, and no
search text or parameter gets a 500."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from support.api import Api, assert_error_shape
from support.servers import REPO_ROOT, LiveServer, ServerFactory
from support.services import PostgresCluster

DEMO_PASSWORD = "collab-demo"

# A query people type, and the title that must come first (from collab seed's library).
RANKED = [
    ("emergency response times task force",
     "A cross-department task force that cut emergency response times"),
    ("resource allocation data analytics",
     "A municipal data-analytics tool that improved resource allocation for street repairs"),
    ("procurement streamlined", "Streamlined procurement: from fourteen-week tenders to five"),
    ("heat vulnerability cooling centres",
     "A heat-vulnerability map that guided where cooling centres open"),
    ("apprentice", "A shared apprenticeship scheme across five councils"),
    ("outcome-based statement of requirements",
     "Writing an outcome-based statement of requirements"),
    ("e-procurement competition", "The effects of e-procurement on competition and prices"),
    ("digital skills gaps", "Digital skills gaps in the public sector workforce"),
    ("flood warning", "Flood warning messages that residents act on"),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, session_servers: ServerFactory) -> Iterator[LiveServer]:
    """A server on each database with `collab seed`'s demo community (one per module)."""
    if request.param == "sqlite":
        url = session_servers.new_sqlite_url()
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database()
    server = session_servers(database_url=url, name=f"library-{request.param}")
    done = subprocess.run([sys.executable, "-m", "collab.cli", "seed"], env=server.env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "library entries" in done.stdout, done.stdout
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lib(seeded: LiveServer) -> Iterator[Api]:
    with Api(seeded.base_url) as client:
        yield client


def found(api: Api, **params: Any) -> dict[str, Any]:
    r = api.http.get("/api/library", params=params)
    assert r.status_code == 200, f"{params} -> {r.status_code}: {r.text[:300]}"
    return dict(r.json())


@pytest.mark.parametrize(("query", "title"), RANKED)
def test_the_expected_entry_comes_first(lib: Api, query: str, title: str) -> None:
    body = found(lib, q=query)
    titles = [r["title"] for r in body["results"]]
    assert titles and titles[0] == title, f"{query!r} ranked {titles[:5]}"
    assert "<mark>" in body["results"][0]["snippet_html"]


def test_filters_and_facets_agree(lib: Api) -> None:
    everything = found(lib, q="emergency")
    assert everything["total"] == sum(everything["facets"]["kind"].values()) > 2
    case_studies = found(lib, q="emergency", kind="case_study")
    assert case_studies["total"] == everything["facets"]["kind"]["case_study"]
    assert {r["kind"] for r in case_studies["results"]} == {"case_study"}
    assert set(case_studies["facets"]["kind"]) == {"case_study"}
    level = next(iter(case_studies["facets"]["level"]))
    narrowed = found(lib, q="emergency", kind="case_study", level=level)
    assert narrowed["total"] == case_studies["facets"]["level"][level]
    assert {r["level"] for r in narrowed["results"]} == {level}
    topic = found(lib, topic="procurement", sort="date")
    assert topic["total"] == found(lib)["facets"]["topic"]["procurement"]
    assert all("procurement" in r["topics"] for r in topic["results"])
    dates = [r["published_at"] for r in topic["results"]]
    assert dates == sorted(dates, reverse=True)
    year = found(lib, kind="paper", year=2023)
    assert year["total"] >= 2 and {r["year"] for r in year["results"]} == {2023}
    place = found(lib, jurisdiction="Lakeshore County")
    assert [r["title"] for r in place["results"]] == [RANKED[0][1]]
    assert found(lib, topic="no-such-topic")["total"] == 0


def test_paging_and_sorting(lib: Api) -> None:
    first = found(lib, sort="date", per_page=5)
    second = found(lib, sort="date", per_page=5, page=2)
    assert first["total"] >= 30 and first["pages"] == -(-first["total"] // 5)
    ids = [r["id"] for r in first["results"]] + [r["id"] for r in second["results"]]
    assert len(ids) == len(set(ids)) == 10
    beyond = found(lib, page=first["pages"] + 1, per_page=5)
    assert beyond["results"] == [] and beyond["total"] == first["total"]


def test_with_no_entry_having_every_word_any_word_matches(lib: Api) -> None:
    body = found(lib, q="apprenticeship zzzqqqxxx")
    assert body["matched"] == "any"
    assert body["results"][0]["title"] == "A shared apprenticeship scheme across five councils"


def test_drafts_and_entries_in_review_are_never_found(lib: Api) -> None:
    # The seed leaves these in the works: a draft, one waiting, one with changes requested.
    unpublished = {"Plain-language emergency alerts: a checklist",
                   "Climate risk registers for local government",
                   "Mentoring programmes for new public managers"}
    for words in ("plain-language emergency alerts checklist", "climate risk registers",
                  "mentoring programmes new public managers", "emergency", "climate"):
        assert not unpublished & {r["title"] for r in found(lib, q=words, per_page=50)
                                  ["results"]}
    # A published entry with its next revision in review is found by its published words.
    assert found(lib, q="five measures first month")["results"][0]["title"] \
        == "Five measures to watch in the first month of a new digital service"
    assert found(lib, q="appeals")["total"] == 0  # a word only revision 2 has
    assert "Six measures to watch in the first month of a new digital service" not in {
        r["title"] for r in found(lib, q="six measures")["results"]}


def test_snippets_mark_words_and_escape_the_rest(lib: Api) -> None:
    token = lib.token("jo.chen", DEMO_PASSWORD)
    expert = lib.token("sam.okafor", DEMO_PASSWORD)
    body = {"kind": "article", "title": "Zebrafish <script>alert(1)</script> & co",
            "summary": "<b>bold</b> zebrafish", "topics": ["workforce"],
            "body": "A <img src=x onerror=alert(1)> zebrafish paragraph \u0002 with markers."}
    created = lib.http.post("/api/library", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    path = f"/api/library/{created.json()['id']}"
    for step, who in (("submit", token), ("claim", expert)):
        assert lib.http.post(f"{path}/{step}", headers={"Authorization": f"Bearer {who}"}
                             ).status_code == 200
    assert lib.http.post(f"{path}/review", json={"decision": "approve"},
                         headers={"Authorization": f"Bearer {expert}"}).status_code == 200
    [result] = found(lib, q="zebrafish")["results"]
    for html in (result["snippet_html"], result["title_html"]):
        assert "<mark>" in html and "zebrafish" in html.lower()
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert "\u0002" not in html and "\u0003" not in html
    assert "&lt;script&gt;" in result["title_html"]


def test_the_site_wide_box_finds_forum_threads_the_viewer_may_read(lib: Api) -> None:
    def sources(token: str | None = None, **params: Any) -> dict[str, list[dict[str, Any]]]:
        r = lib.http.get("/api/search", params=params,
                         headers={"Authorization": f"Bearer {token}"} if token else None)
        assert r.status_code == 200, r.text
        return {s["source"]: s["hits"] for s in r.json()["sources"]}

    hits = sources(q="flood warning")
    assert hits["library"][0]["title"] == "Flood warning messages that residents act on"
    assert hits["forum"][0]["url"].startswith("/threads/")
    assert "Flood warning" in hits["forum"][0]["title"]
    # The members' lounge is for signed-in members: anonymous searches never see it.
    assert "forum" not in sources(q="introduce yourself")
    member = lib.token("priya.nair", DEMO_PASSWORD)
    assert sources(member, q="introduce yourself")["forum"][0]["title"] == "Introduce yourself"
    # LIKE's own characters are searched for literally.
    assert "forum" not in sources(q="%_%")
    # -word leaves threads with it out, as in the library.
    assert "forum" not in sources(q="flood -warning")
    assert "forum" not in sources(q="-flood")


BAD_QUERIES = [
    '"', '"unbalanced', "((((", "))", "a AND OR NOT b", "NEAR(a b, 3)", "title:secret",
    "procur*", "^start", "-", "--", "- -", "!!!", "a & b | !c", "'; DROP TABLE library_entries;--",
    "x" * 1000, " ".join(["word"] * 200), " ".join(f"w{i}" for i in range(200)),
    "é ü ß 東京 🙂", "a:* & b <-> c", "\\", "%", "_",
    "{curly}", "[bracket]", "null", "\u200b", "\u00a0", "1e308", "'quote'", '"a" "b" "c',
]


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_any_search_text_answers_200(lib: Api, q: str) -> None:
    body = found(lib, q=q)
    assert isinstance(body["total"], int) and isinstance(body["results"], list)
    page = lib.http.get("/library", params={"q": q}, headers={"HX-Request": "true"})
    assert page.status_code == 200, page.text[:300]


@pytest.mark.parametrize(("params", "field"), [
    ({"q": "x" * 1001}, "q"), ({"q": "nul\x00byte"}, "q"), ({"kind": "novel"}, "kind"),
    ({"level": "galactic"}, "level"), ({"sort": "random"}, "sort"), ({"year": "20x4"}, "year"),
    ({"year": "99999999999999999999"}, "year"), ({"page": "0"}, "page"), ({"page": "-1"}, "page"),
    ({"per_page": "1000"}, "per_page"), ({"topic": "t" * 41}, "topic"),
])
def test_bad_parameters_are_422_with_the_field(lib: Api, params: dict[str, str],
                                               field: str) -> None:
    r = lib.http.get("/api/library", params=params)
    assert r.status_code == 422, r.text[:300]
    error = assert_error_shape(r)
    assert error["code"] == "invalid" and error["field"] == field
    page = lib.http.get("/library", params=params)
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]


def test_unknown_parameters_are_ignored(lib: Api) -> None:
    assert found(lib, q="procurement", colour="blue", kind_of="x")["total"] \
        == found(lib, q="procurement")["total"]


def test_diff_and_revision_parameters_never_500(lib: Api) -> None:
    first = found(lib, sort="date")["results"][0]["id"]
    # Missing or malformed revision numbers are `invalid`; a well-formed one that does not
    # exist is `not_found`.
    for query, status in (("", 422), ("?from=1", 422), ("?from=a&to=b", 422),
                          ("?from=0&to=1", 422), ("?from=1&to=99", 404),
                          ("?from=99999999999999999999&to=1", 422)):
        r = lib.http.get(f"/api/library/{first}/diff{query}")
        assert r.status_code == status, (query, r.status_code, r.text[:200])
        assert_error_shape(r)
    for query, status in (("?revision=x", 422), ("?revision=0", 422), ("?revision=999", 404)):
        r = lib.http.get(f"/api/library/{first}{query}")
        assert r.status_code == status, (query, r.status_code)
    assert lib.http.get("/api/library/99999999999").status_code == 404


def test_bad_entries_are_422_never_500(lib: Api) -> None:
    token = lib.token("jo.chen", DEMO_PASSWORD)
    auth = {"Authorization": f"Bearer {token}"}
    good = {"kind": "case_study", "title": "T", "summary": "S", "body": "B",
            "topics": ["procurement"], "jurisdiction": "J", "level": "municipal",
            "problem": "P", "actions": "A", "outcomes": [{"label": "L", "value": 1, "unit": "%"}]}
    bad: list[Any] = [
        {**good, "kind": "novel"}, {**good, "title": "nul\x00"}, {**good, "title": "x" * 201},
        {**good, "topics": []}, {**good, "topics": ["nope"]}, {**good, "topics": "procurement"},
        {**good, "level": "galactic"}, {**good, "outcomes": [{"label": "L", "value": "lots"}]},
        {**good, "outcomes": [{"label": "L", "value": 1e20}]}, {**good, "outcomes": "x"},
        {**good, "year": 1066}, {**good, "body": "x" * 50_001}, {**good, "summary": None},
        {"kind": "paper", "title": "T", "summary": "S", "topics": ["finance"],
         "authors": ["A"], "year": 2020, "abstract": "A", "doi": "not a doi"},
        {"kind": "paper", "title": "T", "summary": "S", "topics": ["finance"],
         "authors": ["A"], "year": 2020, "abstract": "A", "url": "javascript:alert(1)"},
        {"kind": "paper", "title": "T", "summary": "S", "topics": ["finance"], "year": 2020,
         "abstract": "A"},
        [], "string", 12,
    ]
    for body in bad:
        r = lib.http.post("/api/library", json=body, headers=auth)
        assert r.status_code == 422, (body if len(str(body)) < 300 else "long", r.text[:300])
        assert_error_shape(r)
    for raw in (b"{not json", b'{"kind": "article", "title": 1e999}', b"\xff\xfe"):
        r = lib.http.post("/api/library", content=raw, headers=auth)
        assert r.status_code == 422, (raw, r.status_code)
    huge = json.dumps({**good, "outcomes": [{"label": "L", "value": 1}]}).replace(
        '"value": 1', '"value": 1e999').encode()
    assert lib.http.post("/api/library", content=huge, headers=auth).status_code == 422
    r = lib.http.post("/api/library", json=good, headers=auth)
    assert r.status_code == 201, r.text
    path = f"/api/library/{r.json()['id']}"
    assert lib.http.put(path, json={"kind": "paper"}, headers=auth).status_code == 422
    assert lib.http.put(path, json={"topics": ["nope"]}, headers=auth).status_code == 422
    assert lib.http.post(f"{path}/review", json={"decision": "approve"},
                         headers=auth).status_code == 403
    # Only experts claim (403); only a submitted entry can be withdrawn (409: a draft).
    for action, status in (("claim", 403), ("withdraw", 409)):
        r = lib.http.post(f"{path}/{action}", headers=auth)
        assert r.status_code == status, (action, r.status_code)
    r = lib.http.post(f"{path}/submit", content=b"[1]", headers=auth)
    assert r.status_code == 422


def test_pages_answer_for_every_entry_and_filter(seeded: LiveServer, lib: Api) -> None:
    with httpx2.Client(base_url=seeded.base_url, timeout=10, trust_env=False) as http:
        ids = [r["id"] for r in found(lib, sort="date", per_page=50)["results"]]
        for entry_id in ids:
            assert http.get(f"/library/{entry_id}").status_code == 200
        for path, status in (("/library", 200), ("/library?q=procurement&kind=case_study", 200),
                             ("/case-studies", 200),
                             ("/case-studies?level=municipal&topic=data-analytics", 200),
                             ("/case-studies?level=nope", 422), (f"/library/{ids[0]}/diff", 200)):
            r = http.get(path)
            assert r.status_code == status, (path, r.status_code)


def test_a_trailing_space_makes_the_last_word_whole(lib: Api) -> None:
    # "budg" is the start of "budget" while typing; "budg " is the whole word, found nowhere.
    assert found(lib, q="budg")["total"] > 0
    assert found(lib, q="budg ")["total"] == 0
    assert found(lib, q="budget ")["total"] == found(lib, q="budget")["total"] > 0


def test_excluded_words_alone_leave_out_the_entries_with_them(lib: Api) -> None:
    everything = found(lib, per_page=50)["total"]
    with_budget = found(lib, q="budget", per_page=50)
    without = found(lib, q="-budget", per_page=50)
    assert with_budget["total"] > 0
    assert without["total"] == everything - with_budget["total"]
    assert not {r["id"] for r in without["results"]} & {r["id"] for r in with_budget["results"]}
    phrase = found(lib, q='-"flood warning"', per_page=50)
    assert phrase["total"] == everything - found(lib, q='"flood warning"')["total"]


def test_a_word_longer_than_any_searched_finds_nothing(lib: Api) -> None:
    assert found(lib, q="procurement " + "x" * 61)["total"] == 0
    assert found(lib, q="procurement -" + "x" * 61)["total"] == found(lib, q="procurement")["total"]


def test_the_site_search_names_its_own_limit_parameter(lib: Api) -> None:
    for bad in ("0", "51", "abc"):
        r = lib.http.get("/api/search", params={"q": "data", "limit": bad})
        assert r.status_code == 422, r.text
        assert assert_error_shape(r)["field"] == "limit"


def test_links_and_the_address_keep_the_page_size(lib: Api) -> None:
    page = lib.http.get("/library", params={"q": "data", "per_page": "5"})
    assert "per_page=5&amp;page=2" in page.text or "page=2&amp;per_page=5" in page.text
    swap = lib.http.get("/library", params={"q": "data", "per_page": "5"},
                        headers={"HX-Request": "true"})
    assert "per_page=5" in swap.headers["hx-push-url"]


def test_a_cleared_box_shows_the_home_it_pushes(lib: Api) -> None:
    # A cleared box sends the default sort with an empty q: the home, as its address says.
    swap = lib.http.get("/library", params={"q": "", "sort": "relevance"},
                        headers={"HX-Request": "true"})
    assert swap.headers["hx-push-url"] == "/library"
    assert 'id="featured-heading"' in swap.text and 'id="result-count"' not in swap.text


@pytest.mark.parametrize("typed", ["bus", "gas", "an", "on", "stud", "procurem", "the", "runni"])
def test_the_last_word_typed_starts_a_word_of_every_result(lib: Api, typed: str) -> None:
    # SQLite stemmed the prefix ("bus" became "bu*": "budgeting"); PostgreSQL dropped a stop
    # word ("an" found nothing while typing "analytics").
    body = found(lib, q=typed, per_page=50)
    # PostgreSQL's stems are shorter than "procurem" (procur) and hold no stop word ("the").
    if typed in ("an", "on", "stud", "procurem", "the", "runni"):
        assert body["total"] > 0, typed
    word = re.compile(rf"(?<![^\W_]){typed}", re.IGNORECASE)
    for result in body["results"]:
        entry = lib.http.get(f"/api/library/{result['id']}").json()
        text = json.dumps(entry, ensure_ascii=False)
        assert word.search(text), (typed, result["title"])


def test_a_showcase_page_past_the_last_says_so(lib: Api) -> None:
    page = lib.http.get("/case-studies", params={"page": "9"})
    assert page.status_code == 200 and "There is no page 9" in page.text
    assert "per_page" not in page.text


def test_both_databases_split_and_fold_words_alike(lib: Api) -> None:
    # PostgreSQL kept "4.6" and "data.gov.uk" whole and did not fold accents; SQLite did both.
    assert found(lib, q='"4.6 bids"')["total"] >= 1  # a seeded outcome: "4.6 bids"
    author, expert = lib.token("jo.chen", DEMO_PASSWORD), lib.token("sam.okafor", DEMO_PASSWORD)

    def as_(token: str, method: str, path: str, body: Any = None, status: int = 200
            ) -> dict[str, Any]:
        r = lib.http.request(method, path, json=body,
                             headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == status, r.text
        return dict(r.json())

    made = as_(author, "POST", "/api/library", {
        "kind": "article", "title": "Café culture in Zürich", "summary": "Naïve questions.",
        "body": "Open data at data.gov.uk helped.", "topics": ["citizen-engagement"]}, 201)
    path = f"/api/library/{made['id']}"
    as_(author, "POST", f"{path}/submit")
    as_(expert, "POST", f"{path}/claim")
    as_(expert, "POST", f"{path}/review", {"decision": "approve"})
    for q in ("cafe zurich", "Café Zürich", "naive", "gov", "data gov uk"):
        titles = [r["title"] for r in found(lib, q=q, per_page=50)["results"]]
        assert "Café culture in Zürich" in titles, (q, titles)
    first = found(lib, q="cafe")["results"][0]
    assert "<mark>Café</mark>" in first["title_html"], first["title_html"]


@pytest.mark.parametrize(("typed", "whole"), [("cities", "city"), ("budgets", "budget"),
                                               ("informal", None), ("relative", None)])
def test_a_whole_word_typed_last_finds_its_own_forms_and_no_longer_words(
        lib: Api, typed: str, whole: str | None) -> None:
    # PostgreSQL widened "cities" to "citizen" (the stem citi as a prefix), "informal" to
    # "information"; SQLite left out "city" until a space was typed.
    assert found(lib, q=typed)["total"] == found(lib, q=typed + " ")["total"]
    if whole is not None:
        assert found(lib, q=typed)["total"] == found(lib, q=whole + " ")["total"] > 0


def test_excluded_words_are_not_marked(lib: Api) -> None:
    for result in found(lib, q="data -use", per_page=50)["results"]:
        marked_words = re.findall(r"<mark>([^<]*)</mark>",
                                  result["title_html"] + result["snippet_html"])
        assert all(w.lower().startswith("data") for w in marked_words), marked_words


def test_a_half_typed_word_is_marked_in_its_results(lib: Api) -> None:
    body = found(lib, q="procurem")
    assert body["total"] > 0
    first = body["results"][0]
    assert re.search(r"<mark>procurem\w*</mark>", first["title_html"] + first["snippet_html"],
                     re.IGNORECASE), first


def test_a_misspelt_search_offers_the_librarys_own_spelling(lib: Api) -> None:
    for typed, meant in (("procuremnt", "procurement"), ("procuremnt ", "procurement"),
                         ("flod warning", "flood warning"),
                         ("emergancy respnse", "emergency response")):
        body = found(lib, q=typed)
        assert body.get("did_you_mean") == meant, (typed, body.get("did_you_mean"))
        assert found(lib, q=meant)["total"] > (body["total"] if body["matched"] == "all" else 0)
    # Nothing to offer for a word the library has, a half-typed one, or one far from any.
    for typed in ("procurement", "procurem", "xqzzyv", ""):
        assert "did_you_mean" not in found(lib, q=typed), typed
    # The page offers it as a link to that search, without JavaScript too.
    page = lib.http.get("/library", params={"q": "procuremnt"}).text
    assert 'Did you mean <a href="/library?q=procurement"' in page


def test_a_drafts_words_are_never_offered(lib: Api) -> None:
    token = lib.token("jo.chen", DEMO_PASSWORD)
    draft = {"kind": "article", "title": "Quokkaberry governance", "topics": ["procurement"],
             "summary": "Quokkaberry councils.", "body": "Quokkaberry everywhere."}
    r = lib.http.post("/api/library", json=draft, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert "did_you_mean" not in found(lib, q="quokkaberri")


def test_spelling_a_long_hostile_query_stays_quick(lib: Api) -> None:
    q = " ".join(f"procuremnt{chr(97 + i % 26)}x" for i in range(80))[:1000]
    started = time.monotonic()
    r = lib.http.get("/api/library", params={"q": q})
    assert r.status_code == 200
    assert time.monotonic() - started < 2.0
