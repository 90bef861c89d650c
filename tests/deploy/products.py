"""The three products under traffic: what each writer sends, and what the database must hold.

Each `check_*` compares the database (read over HTTP through nginx) with the acknowledged sends
and with what the readers rebuilt from events; it returns the breaches found.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from integration.test_boards_helpers import Replica, add_member, get_board, make_project, order
from support.api import Api, User
from support.webinars import create_webinar

from .traffic import Reader, Writer


@dataclass
class Product:
    name: str
    channel: str
    ref: int  # thread, board or webinar id
    writers: list[Writer] = field(default_factory=list)
    start: dict[str, Any] = field(default_factory=dict)  # the state before the traffic


def forum(api: Api, admin: User) -> Product:
    room = api.create_room(admin.token)
    thread = api.create_thread(admin.token, int(room["id"]))
    return Product("forum", f"thread:{thread['id']}", int(thread["id"]))


async def post(writer: Writer, n: int) -> None:
    await writer.send("post.create", {"body": f"{writer.name} post {n}"})


def check_forum(api: Api, product: Product) -> list[str]:
    posts = api.get_thread(product.ref)["posts"][1:]  # after the opening post
    stored = Counter(p["body"] for p in posts)
    acked = Counter(s.data["body"] for w in product.writers for s in w.acked())
    if stored != acked:
        return [(f"forum: stored but not acknowledged {sorted((stored - acked).elements())[:5]}, "
                 f"acknowledged but not stored {sorted((acked - stored).elements())[:5]}")]
    return []


def board(api: Api, owner: User, members: list[User]) -> Product:
    project = make_project(api, owner, visibility="public")
    for member in members:
        add_member(api, owner, int(project["id"]), member)
    board_id = int(project["board_id"])
    product = Product("board", f"board:{board_id}", board_id)
    product.start["board"] = get_board(api, board_id, owner)
    return product


async def card(writer: Writer, n: int) -> None:
    """Create cards (at the top or the bottom), and move this writer's own ones about."""
    columns = writer.state["columns"]
    mine: dict[int, int] = writer.state.setdefault("cards", {})  # id -> version
    if n % 3 == 2 and mine:
        card_id = random.choice(sorted(mine))
        sent = await writer.send("card.move", {"card_id": card_id, "version": mine[card_id],
                                               "column_id": random.choice(columns),
                                               "index": 0})
    else:
        data: dict[str, Any] = {"column_id": random.choice(columns),
                                "title": f"{writer.name} card {n}"}
        if n % 2:
            data["index"] = 0
        sent = await writer.send("card.create", data)
    if sent.ack is not None:
        mine[int(sent.ack["data"]["id"])] = int(sent.ack["data"]["version"])


def check_board(api: Api, product: Product, owner: User, readers: list[Reader]) -> list[str]:
    problems = []
    stored = get_board(api, product.ref, owner)
    titles = Counter(c["title"] for col in stored["columns"] for c in col["cards"])
    acked = Counter(s.data["title"] for w in product.writers for s in w.acked()
                    if s.type == "card.create")
    if titles != acked:
        problems.append(f"board: cards stored {sorted(titles)[:5]}… acknowledged "
                        f"{sorted(acked)[:5]}… differ by {sorted((titles - acked) | (acked - titles))[:5]}")
    for reader in readers:
        replica = Replica.of(product.start["board"])
        try:
            for frame in reader.events[product.channel]:
                replica.apply(frame)
        except (AssertionError, KeyError) as exc:
            problems.append(f"board: {reader.name} cannot rebuild the board from its events: "
                            f"{exc!r}")
            continue
        if replica.order() != order(stored):
            problems.append(f"board: {reader.name} has the cards in another order than the "
                            f"database: {replica.order()} vs {order(stored)}")
    return problems


def webinar(api: Api, host: User) -> Product:
    created = create_webinar(api, host.token)
    return Product("webinar", f"webinar:{created['id']}", int(created["id"]),
                   start={"questions": {}})


async def talk(writer: Writer, n: int) -> None:
    """Chat, ask questions, and upvote the other writers' questions (once each)."""
    questions: dict[int, str] = writer.state["questions"]  # shared: id -> asker
    voted: set[int] = writer.state.setdefault("voted", set())
    others = [q for q, asker in questions.items() if asker != writer.name and q not in voted]
    if n % 4 == 0:
        sent = await writer.send("question.ask", {"body": f"{writer.name} asks {n}?"})
        if sent.ack is not None:
            questions[int(sent.ack["data"]["id"])] = writer.name
    elif n % 4 == 2 and others:
        question = random.choice(others)
        voted.add(question)
        await writer.send("question.upvote", {"question_id": question})
    else:
        await writer.send("chat.send", {"body": f"{writer.name} says {n}"})


def check_webinar(api: Api, product: Product, host: User, readers: list[Reader]) -> list[str]:
    problems = []
    r = api.http.get(f"/api/webinars/{product.ref}/messages", params={"after": 0, "limit": 500},
                     headers=host.auth)
    assert r.status_code == 200, r.text
    stored = Counter(m["body"] for m in r.json()["messages"])
    sends = [s for w in product.writers for s in w.acked()]
    acked = Counter(s.data["body"] for s in sends if s.type == "chat.send")
    if stored != acked:
        problems.append(f"webinar: chat stored and acknowledged differ by "
                        f"{sorted((stored - acked) | (acked - stored))[:5]}")
    r = api.http.get(f"/api/webinars/{product.ref}", headers=host.auth)
    assert r.status_code == 200, r.text
    votes = {int(q["id"]): int(q["votes"]) for q in r.json()["questions"]}
    upvotes = Counter(int(s.data["question_id"]) for s in sends if s.type == "question.upvote")
    asked = {int(s.ack["data"]["id"]) for s in sends if s.type == "question.ask" and s.ack}
    if set(votes) != asked:
        problems.append(f"webinar: questions stored {sorted(votes)} acknowledged {sorted(asked)}")
    for q, count in votes.items():
        if count != upvotes.get(q, 0):
            problems.append(f"webinar: question {q} holds {count} votes, {upvotes.get(q, 0)} "
                            "were acknowledged")
    for reader in readers:
        seen: dict[int, int] = {}
        for frame in reader.events[product.channel]:
            if frame["type"] == "question.voted":
                seen[int(frame["data"]["question_id"])] = int(frame["data"]["votes"])
        wrong = {q: n for q, n in seen.items() if votes.get(q) != n}
        if wrong:
            problems.append(f"webinar: {reader.name} ends with votes {wrong}, the database "
                            f"with {votes}")
    return problems
