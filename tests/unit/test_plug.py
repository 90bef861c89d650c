"""The plug is small: a toy domain in a few lines is joined, sent to, rendered and replayed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from collab.accounts.models import User
from collab.accounts.service import audit, create_user
from collab.app import create_app
from collab.domain import (
    ActionText,
    AuditRow,
    Domain,
    HomeBlock,
    HomeItem,
    NavEntry,
    SearchHit,
    SearchSource,
)
from collab.domains import DOMAINS
from collab.migrations import all_migrations, migrate
from collab.realtime import Ack, Call, ChannelKind, handles
from collab.settings import Settings

# -- the toy domain: a package's worth, in a dozen lines -----------------------------------------


class NoteChannel(ChannelKind):
    kind = "note"
    presence = False
    fragments = {"note.added": "_flash.html"}

    async def join(self, actor: Any, id: int) -> str:
        return "reader"

    @handles("note.add", anonymous=True)
    async def add(self, call: Call) -> Ack:
        async with self.hub.transaction() as tx:
            event = await tx.emit(call.channel, "note.added", {"message": call.data["text"],
                                                                "kind": "info"})
        return Ack(seq=event.seq)

    def fragment_context(self, event: Any) -> dict[str, Any]:
        return {"kind": "info", "message": event.data["message"]}


async def notes_home(request: Request) -> JSONResponse:
    return JSONResponse({"head": (await request.app.state.hub.head("note:1")).seq})


async def find_notes(query: str, viewer: Any, limit: int) -> list[SearchHit]:
    return [SearchHit(source="notes", kind="note", id=1, title=f"A note on {query}",
                      url="/notes")][:limit]


async def notes_in_words(rows: Sequence[AuditRow]) -> Mapping[int, ActionText]:
    return {r.id: ActionText(f"purged note {r.target[5:]}", "/notes")
            for r in rows if r.action == "note.purge"}


async def new_notes(viewer: Any) -> list[HomeBlock]:
    return [HomeBlock("Fresh notes", [HomeItem("The toy's first note", "/notes")], order=1)]


TOY = Domain(name="notes", routes=[Route("/notes", notes_home)], channels=[NoteChannel],
             nav=[NavEntry("Notes", "/notes", order=5)],
             search=SearchSource("notes", "Notes", find_notes),
             describe_actions=notes_in_words, whats_new=new_notes)

# -------------------------------------------------------------------------------------------------


@pytest.fixture
def app_with_toy(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'toy.db'}"
    asyncio.run(migrate(url, all_migrations()))
    settings = Settings(database_url=url, secret_key="toy", environment="test")
    return create_app(settings, domains=[*DOMAINS, TOY])


def test_a_toy_domain_plugs_in_with_one_list_entry(app_with_toy: Any) -> None:
    with TestClient(app_with_toy) as client:
        # Its nav entry is on every page, its route answers.
        assert '<a href="/notes"' in client.get("/rooms").text
        assert client.get("/notes").json() == {"head": 0}
        # Joined and sent to over /ws; the event is numbered and fanned out.
        with client.websocket_connect("/ws") as ws:
            ws.send_text(orjson.dumps({"op": "join", "ref": "j", "channel": "note:1"}).decode())
            joined = orjson.loads(ws.receive_text())
            assert joined["op"] == "joined" and joined["seq"] == 0 and joined["epoch"]
            ws.send_text(orjson.dumps({"op": "send", "ref": "s", "channel": "note:1",
                                       "type": "note.add", "data": {"text": "hi"}}).decode())
            frames = [orjson.loads(ws.receive_text()) for _ in range(2)]
            event = next(f for f in frames if f["op"] == "event")
            assert event["type"] == "note.added" and event["seq"] == 1
            assert {"op": "ack", "ref": "s", "seq": 1} in frames
            # An unknown send type is refused by the base class.
            ws.send_text(orjson.dumps({"op": "send", "ref": "x", "channel": "note:1",
                                       "type": "note.burn", "data": {}}).decode())
            assert orjson.loads(ws.receive_text())["code"] == "invalid"
        # Rendered for pages from its fragment table, and replayed from `since`.
        with client.websocket_connect("/ws/html?channel=note:1&since=0") as page:
            assert "hi" in page.receive_text()
        # Replayed over /ws too, with the epoch the first join reported.
        with client.websocket_connect("/ws") as ws:
            ws.send_text(orjson.dumps({"op": "join", "ref": "j", "channel": "note:1",
                                       "since": 0, "epoch": joined["epoch"]}).decode())
            replayed = orjson.loads(ws.receive_text())
            assert replayed["op"] == "event" and replayed["data"]["message"] == "hi"


def test_a_toy_domain_is_searched_audited_and_on_the_front_door(app_with_toy: Any) -> None:
    """The site asks the toy through the plug alone: no line outside its package names it."""
    with TestClient(app_with_toy) as client:
        # A block on the front door, first by its order.
        home = client.get("/").text
        assert "Fresh notes" in home and home.index("Fresh notes") < home.index("New in the forum")
        assert '<a href="/notes">The toy&#39;s first note</a>' in home
        # A source of the site-wide search, labelled with its product, in the API and the page.
        found = client.get("/api/search", params={"q": "lemons"}).json()["sources"]
        notes = next(s for s in found if s["source"] == "notes")
        assert notes["label"] == "Notes" and notes["hits"][0]["title"] == "A note on lemons"
        page = client.get("/search", params={"q": "lemons"}).text
        assert "A note on lemons" in page and '<span class="badge">Notes</span>' in page
        # Its audit rows in words, after the actor's name.
        boss: User = client.portal.call(create_user, "boss", "a long passphrase", None, "admin")
        client.portal.call(audit, boss, "note.purge", "note:7", "")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert csrf is not None
        client.post("/login", data={"csrf_token": csrf.group(1), "username": "boss",
                                    "password": "a long passphrase"})
        log = client.get("/admin/audit").text
        assert 'purged note 7</a>' in log and '<code>note.purge</code>' in log


def test_the_docs_name_every_send_type_of_every_domain() -> None:
    protocol = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    for domain in DOMAINS:
        for kind in domain.channels:
            for send_type in kind.send_types():
                assert f"`{send_type}`" in protocol, f"{kind.kind}: {send_type}"
            for event_type in kind.event_types():
                assert f"`{event_type}`" in protocol, f"{kind.kind}: {event_type}"


def test_migrations_of_every_domain_have_distinct_versions() -> None:
    versions = [version for version, _ in all_migrations()]
    assert len(versions) == len(set(versions))
