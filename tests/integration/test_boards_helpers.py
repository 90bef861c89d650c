"""Shared helpers of the boards' integration tests (this module has no tests of its own).

A board rebuilt from events (`Replica`) is how a client that follows `board:ID` sees it; the
tests compare it with `GET /api/boards/{id}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from support.api import Api, User, unique_name
from support.wsclient import Frame, WSClient


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def make_project(api: Api, owner: User, visibility: str = "private",
                 name: str | None = None) -> dict[str, Any]:
    r = api.http.post("/api/projects", headers=bearer(owner),
                      json={"name": name or unique_name("Project "), "visibility": visibility,
                            "description": "Made by a test."})
    assert r.status_code == 201, r.text
    return dict(r.json())


def add_member(api: Api, owner: User, project_id: int, user: User, role: str = "member",
               *, changed: bool = False) -> dict[str, Any]:
    """Add `user` (201), or with `changed` give an existing member another role (200)."""
    r = api.http.post(f"/api/projects/{project_id}/members", headers=bearer(owner),
                      json={"username": user.username, "role": role})
    assert r.status_code == (200 if changed else 201), r.text
    return dict(r.json())


def get_board(api: Api, board_id: int, user: User | None = None) -> dict[str, Any]:
    r = api.http.get(f"/api/boards/{board_id}", headers=bearer(user) if user else None)
    assert r.status_code == 200, r.text
    return dict(r.json())


def order(board: dict[str, Any]) -> list[tuple[int, list[int]]]:
    """The board as (column id, [card ids in order]) pairs."""
    return [(c["id"], [card["id"] for card in c["cards"]]) for c in board["columns"]]


@dataclass
class ProjectSetup:
    api: Api
    owner: User
    project: dict[str, Any]
    board: dict[str, Any]

    @property
    def board_id(self) -> int:
        return int(self.project["board_id"])

    @property
    def channel(self) -> str:
        return f"board:{self.board_id}"

    @property
    def columns(self) -> list[int]:
        return [c["id"] for c in self.board["columns"]]


def setup_project(api: Api, owner: User | None = None, visibility: str = "private"
                  ) -> ProjectSetup:
    owner = owner or api.register()
    project = make_project(api, owner, visibility)
    return ProjectSetup(api, owner, project, get_board(api, int(project["board_id"]), owner))


async def act(client: WSClient, channel: str, type: str, **data: Any) -> Frame:
    return await client.send_action(channel, type, data)


async def ok(client: WSClient, channel: str, type: str, **data: Any) -> Frame:
    reply = await act(client, channel, type, **data)
    assert reply.get("op") == "ack", f"{type} {data} answered {reply}"
    return reply


def refused(reply: Frame, code: str) -> Frame:
    assert reply.get("op") == "error" and reply.get("code") == code, reply
    return reply


@dataclass
class Replica:
    """A board kept from events alone, as a client following `board:ID` would keep it."""

    columns: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {rank, title}
    cards: dict[int, dict[str, Any]] = field(default_factory=dict)    # id -> card fields
    seq: int = 0

    @classmethod
    def of(cls, board: dict[str, Any]) -> Replica:
        replica = cls(seq=int(board["seq"]))
        for col in board["columns"]:
            replica.columns[col["id"]] = {"rank": col["rank"], "title": col["title"]}
            for card in col["cards"]:
                replica.cards[card["id"]] = dict(card)
        return replica

    def apply(self, frame: Frame) -> None:
        seq = int(frame["seq"])
        assert seq == self.seq + 1, f"gap or repeat: had {self.seq}, got {seq}"
        self.seq = seq
        kind, data = frame["type"], frame["data"]
        if kind in ("card.created", "card.updated"):
            card = {k: v for k, v in data.items() if k != "index"}
            self.cards[data["id"]] = card
            if kind == "card.created":
                self.check_index(data["id"], data["index"])
        elif kind == "card.moved":
            card = self.cards[data["id"]]
            card.update(column_id=data["column_id"], rank=data["rank"], version=data["version"])
            self.check_index(data["id"], data["index"])
        elif kind == "card.deleted":
            del self.cards[data["id"]]
        elif kind == "card.commented":
            self.cards[data["card_id"]]["comments"] = data["comments"]
        elif kind == "column.created":
            self.columns[data["id"]] = {"rank": data["rank"], "title": data["title"]}
        elif kind == "column.renamed":
            self.columns[data["id"]]["title"] = data["title"]
        elif kind == "column.moved":
            self.columns[data["id"]]["rank"] = data["rank"]
        elif kind == "column.deleted":
            del self.columns[data["id"]]
            for card_id in data["cards"]:
                del self.cards[card_id]
        elif kind == "column.ranked":
            for card_id, rank in data["cards"]:
                self.cards[card_id]["rank"] = rank

    def check_index(self, card_id: int, index: int) -> None:
        """The event's index is the card's place in its column once the event is applied."""
        column = self.cards[card_id]["column_id"]
        assert self.column_cards(column).index(card_id) == index, (card_id, index)

    def column_cards(self, column_id: int) -> list[int]:
        cards = [c for c in self.cards.values() if c["column_id"] == column_id]
        ranks = [c["rank"] for c in cards]
        assert len(set(ranks)) == len(ranks), f"two cards share a place in {column_id}"
        return [c["id"] for c in sorted(cards, key=lambda c: c["rank"])]

    def order(self) -> list[tuple[int, list[int]]]:
        cols = sorted(self.columns, key=lambda cid: self.columns[cid]["rank"])
        return [(cid, self.column_cards(cid)) for cid in cols]
