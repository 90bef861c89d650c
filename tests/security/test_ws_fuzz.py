"""Property-based fuzzing of `/ws` and `/ws/html` frames (hypothesis).

Every frame, however malformed, gets an answer and leaves the socket working (a `ping` right
after it is answered); nothing a frame carries makes the server log a traceback (checked when
the module's server stops). Hostile text (issue 21: repeated `[`, `![`, `<`, one long line,
NUL) in every text field of the boards', forums' and webinars' send types, on channels the
sender may write to, is answered within a second (PROTOCOL.md, Operations).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.api import Api, User, setup_forum
from support.servers import LiveServer
from support.webinars import create_webinar
from websockets.sync.client import ClientConnection, connect

EXAMPLES = 300

_text = st.text(max_size=60)
_ids = st.one_of(st.integers(min_value=-5, max_value=2**70).map(str), _text,
                 st.sampled_from(["1", "¹", "١", "0", "-1", "1e3", " 1", "9" * 30]))
_kinds = st.sampled_from(["thread", "room", "user", "board", "webinar", "nope", ""])
channels = st.one_of(st.builds(lambda k, i: f"{k}:{i}", _kinds, _ids), _text)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False), _text, st.just("\x00"), st.just("x" * 70_000))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)), max_leaves=12)
send_types = st.sampled_from(["post.create", "post.edit", "post.delete", "post.flag",
                              "thread.lock", "thread.pin", "typing", "thread.create",
                              "card.move", "chat.send", "x" * 100, ""])
frames = st.one_of(
    st.fixed_dictionaries({"op": st.sampled_from(["join", "leave"]), "channel": channels},
                          optional={"ref": st.one_of(_text, st.integers()), "since": json_values,
                                    "epoch": json_values}),
    st.fixed_dictionaries({"op": st.just("send"), "channel": channels, "type": send_types,
                           "data": st.one_of(json_values, st.dictionaries(
                               st.sampled_from(["body", "post_id", "reason", "locked",
                                                "title", "pinned"]), scalars))},
                          optional={"ref": _text, "key": json_values}),
    st.dictionaries(_text, json_values, max_size=5),
    json_values,
)


def _answered(ws: ClientConnection, marker: str) -> list[Any]:
    """Everything up to the pong of `marker` (each frame must be answered before it)."""
    ws.send(json.dumps({"op": "ping", "ref": marker}))
    seen = []
    while True:
        raw = ws.recv(timeout=10)
        frame = json.loads(raw) if raw.startswith("{") else raw
        if isinstance(frame, dict) and frame.get("op") == "pong" and frame.get("ref") == marker:
            return seen
        seen.append(frame)


@pytest.fixture(scope="module")
def forum_member(fuzz_server: LiveServer) -> tuple[User, int]:
    """The forum's admin (moderator powers: every send type is within reach) and a thread."""
    with Api(fuzz_server.base_url) as api:
        forum = setup_forum(api)
    return forum.admin, forum.thread_id


def test_every_ws_frame_is_answered_and_the_socket_lives(fuzz_server: LiveServer,
                                                        forum_member: tuple[User, int]) -> None:
    user, _ = forum_member
    count = 0
    with connect(f"{fuzz_server.ws_url}?token={user.token}", max_size=2**24,
                 open_timeout=10) as ws:

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(frame=st.one_of(frames, frames.map(json.dumps).map(lambda t: t[:-1]),
                               st.binary(max_size=40)))
        def fuzz(frame: Any) -> None:
            nonlocal count
            count += 1
            ws.send(frame if isinstance(frame, (bytes, str)) else json.dumps(frame))
            answers = _answered(ws, f"fuzz-{count}")
            assert answers, f"no answer to {frame!r:.200}"

        fuzz()
    assert count >= EXAMPLES // 2


def test_every_ws_html_form_is_answered_and_the_socket_lives(
        fuzz_server: LiveServer, forum_member: tuple[User, int]) -> None:
    user, thread_id = forum_member
    count = 0
    with connect(f"{fuzz_server.ws_url}/html?channel=thread:{thread_id}&token={user.token}",
                 max_size=2**24, open_timeout=10) as ws:
        ws.recv(timeout=10)  # the presence list on joining

        @settings(max_examples=EXAMPLES // 2, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(form=st.one_of(
            st.fixed_dictionaries({"type": send_types}, optional={
                "body": scalars, "post_id": scalars, "HEADERS": json_values,
                "csrf_token": _text}),
            json_values))
        def fuzz(form: Any) -> None:
            nonlocal count
            count += 1
            # Pages send every form with a fresh key; the answer names it (ack or error).
            key = f"k{count}"
            if isinstance(form, dict):
                form = {**form, "key": key}
            try:
                json.dumps(form, allow_nan=False)
                readable = True
            except ValueError:
                # NaN and Infinity are not JSON: the frame cannot be read, so its key cannot
                # be named; the answer is the page's error, without a ref.
                readable = False
            ws.send(json.dumps(form))
            while True:
                try:
                    reply = ws.recv(timeout=10)
                except TimeoutError:
                    raise AssertionError(f"no answer to {json.dumps(form)[:300]}") from None
                assert reply.startswith("<"), reply[:200]
                if not isinstance(form, dict) or form.get("type") == "typing" or not readable:
                    if 'id="ws-error"' in reply or 'id="ws-ack"' in reply or "typing" in reply:
                        return
                elif f'data-ref="{key}"' in reply:
                    return

        fuzz()
    assert count >= EXAMPLES // 4


# The worst texts found for Markdown, the search copy and the diff, at the largest sizes the
# fields take (longer ones are refused by length, which is cheap).
HOSTILE = ["![" * 10_000, "[" * 20_000, "<" * 20_000, "word " * 10_000, "\x00" * 2_000,
           "_*" * 10_000, "a\n" * 10_000, "[a](" * 5_000, "\n" + " " * 19_998 + "x",
           ("|a|b|\n|-|-|\n" + "|x|y|\n" * 4_000)[:20_000], "`a" * 10_000, "&" * 20_000]
# What one answer may cost the server, in CPU seconds of its process (read before and after:
# a loaded machine slows the wall clock, not this; the clock ticks in 10 ms): the loop's bound
# (the worst text costs about 50 ms now, 230 ms before issue 21).
SERVER_CPU_S = 0.1
# And the wall clock, at the client: a stall, not a cost.
ANSWER_WITHIN_S = 5.0


@pytest.fixture(scope="module")
def venues(fuzz_server: LiveServer, forum_member: tuple[User, int]) -> dict[str, Any]:
    """A board with a card, a live webinar and the forum thread, all the admin's to write to."""
    admin, thread_id = forum_member
    auth = {"Authorization": f"Bearer {admin.token}"}
    with Api(fuzz_server.base_url) as api:
        project = api.http.post("/api/projects", headers=auth,
                                json={"name": "Fuzzed", "visibility": "private"}).json()
        board = api.http.get(f"/api/boards/{project['board_id']}", headers=auth).json()
        webinar = create_webinar(api, admin.token)
    column_id = board["columns"][0]["id"]
    with connect(f"{fuzz_server.ws_url}?token={admin.token}", open_timeout=10) as ws:
        ws.send(json.dumps({"op": "send", "channel": f"board:{board['id']}",
                            "type": "card.create", "ref": "c",
                            "data": {"column_id": column_id, "title": "Target"}}))
        while (frame := json.loads(ws.recv(timeout=10))).get("ref") != "c":
            pass
    assert frame["op"] == "ack", frame
    card_id = frame["data"]["id"]
    return {"thread": f"thread:{thread_id}", "board": f"board:{board['id']}",
            "webinar": f"webinar:{webinar['id']}",
            "sends": [
                ("thread", "post.create", {}, "body"),
                ("board", "card.create", {"column_id": column_id, "title": "t"}, "description"),
                ("board", "card.create", {"column_id": column_id}, "title"),
                ("board", "card.update", {"card_id": card_id, "version": 1}, "description"),
                ("board", "card.comment", {"card_id": card_id}, "body"),
                ("board", "column.create", {}, "title"),
                ("webinar", "chat.send", {}, "body"),
                ("webinar", "question.ask", {}, "body"),
                ("webinar", "poll.create", {"options": ["a", "b"]}, "question"),
            ]}


def _send_timed(ws: ClientConnection, server: LiveServer, channel: str, kind: str,
                data: dict[str, Any], ref: str) -> None:
    """Send; the answer (ack or error) must come within the bounds."""
    cpu, started = server.cpu_seconds(), time.perf_counter()
    ws.send(json.dumps({"op": "send", "channel": channel, "type": kind, "ref": ref,
                        "data": data}))
    while (frame := json.loads(ws.recv(timeout=30))).get("ref") != ref:
        pass
    spent, cost = time.perf_counter() - started, server.cpu_seconds() - cpu
    assert frame["op"] in ("ack", "error"), frame
    shown = {k: (f"{v[:12]!r}... ({len(v):,})" if isinstance(v, str) else v)
             for k, v in data.items()}
    assert cost < SERVER_CPU_S, f"{kind} {shown} cost the server {cost:.2f} s of CPU"
    assert spent < ANSWER_WITHIN_S, f"{kind} {shown} took {spent:.2f} s"


def test_hostile_text_in_every_send_type_is_answered_in_bounded_time(
        fuzz_server: LiveServer, forum_member: tuple[User, int], venues: dict[str, Any]) -> None:
    user, _ = forum_member
    count = 0
    with connect(f"{fuzz_server.ws_url}?token={user.token}", max_size=2**24,
                 open_timeout=10) as ws:
        # Every worst text in every text field, whole.
        for venue, kind, data, field in venues["sends"]:
            for text in HOSTILE:
                count += 1
                _send_timed(ws, fuzz_server, venues[venue], kind, {**data, field: text},
                            f"hostile-{count}")

        # Then mixtures of them, cut anywhere.
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(send=st.sampled_from(venues["sends"]),
               parts=st.lists(st.tuples(st.sampled_from(HOSTILE), st.integers(0, 20_000)),
                              min_size=1, max_size=4))
        def fuzz(send: tuple[str, str, dict[str, Any], str], parts: list[tuple[str, int]]
                 ) -> None:
            nonlocal count
            count += 1
            venue, kind, data, field = send
            text = "".join(piece[:cut] for piece, cut in parts)[:20_000]
            _send_timed(ws, fuzz_server, venues[venue], kind, {**data, field: text},
                        f"hostile-{count}")

        fuzz()
    assert count >= len(venues["sends"]) * len(HOSTILE) + 15
