"""The no-JS form helpers: one error policy, a form's send through the channel's handler, and a
page's own form shown again as typed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from collab.errors import CollabError, Conflict, Forbidden, Invalid, Unauthenticated
from collab.realtime import Ack, Actor, Call, ChannelKind, handles
from collab.web import csrf_token
from collab.web.forms import form_action, form_fields, post_form, send_form

pytestmark = pytest.mark.anyio
ALICE = Actor(1, "alice", "Alice")


async def _again(exc: CollabError) -> Response:
    return PlainTextResponse(f"the form again: {exc.message}", status_code=exc.status)


async def test_a_form_that_succeeds_goes_on_with_303_to_where_the_action_says() -> None:
    async def action() -> str:
        return "/threads/7#post-9"

    response = await form_action(action, _again)
    assert (response.status_code, response.headers["location"]) == (303, "/threads/7#post-9")


async def test_a_refused_form_shows_its_page_again_with_the_message_and_status() -> None:
    async def action() -> str:
        raise Conflict("the card changed meanwhile")

    response = await form_action(action, _again)
    assert response.status_code == 409
    assert response.body == b"the form again: the card changed meanwhile"


async def test_signing_in_is_not_shown_on_the_form_it_goes_to_the_sign_in_page() -> None:
    async def action() -> str:
        raise Unauthenticated("sign in first")

    with pytest.raises(Unauthenticated):
        await form_action(action, _again)


class NoteKind(ChannelKind):
    kind = "note"
    seen: list[Call] = []

    async def join(self, actor: Actor | None, id: int) -> Any:
        if id == 2:
            raise Forbidden("not yours")
        return "writer"

    @handles("note.add")
    async def add(self, call: Call) -> Ack:
        self.seen.append(call)
        return Ack(data={"text": call.data["text"]})


def _request() -> Any:
    hub = SimpleNamespace(kinds={"note": NoteKind(None)})  # type: ignore[arg-type]
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(hub=hub)))


async def test_a_form_send_is_joined_and_handled_as_the_socket_would() -> None:
    request = _request()
    ack = await send_form(request, ALICE, "note:1", "note.add", {"text": "hi"})
    call = NoteKind.seen[-1]
    assert ack.data == {"text": "hi"}
    assert (call.actor, call.channel, call.id, call.grant) == (ALICE, "note:1", 1, "writer")
    with pytest.raises(Forbidden):
        await send_form(request, ALICE, "note:2", "note.add", {"text": "no"})
    with pytest.raises(CollabError) as refused:
        await send_form(request, ALICE, "note:1", "note.remove", {})
    assert refused.value.code == "invalid"


def test_a_forms_data_leaves_out_what_steers_it_and_keeps_repeated_fields_as_lists() -> None:
    form = FormData([("csrf_token", "t"), ("type", "poll.create"), ("back", "console"),
                     ("question", "Which?"), ("options", "A"), ("options", "B")])
    assert form_fields(form, lists=("options",)) == {"question": "Which?",
                                                     "options": ["A", "B"]}


def _form_app(created: list[dict[str, str]]) -> Starlette:
    async def page_route(request: Request) -> Response:
        context: dict[str, Any] = {"form": {"name": ""}}

        async def page(status: int = 200) -> Response:
            return JSONResponse({**context, "token": csrf_token(request)}, status_code=status)

        if request.method != "POST":
            return await page()

        async def create(data: dict[str, str]) -> str:
            if not data["name"]:
                raise Invalid("a name is required", extra={"field": "name"})
            created.append(data)
            return f"/things/{len(created)}"

        return await post_form(request, ("name", "colour"), create, page, context)

    return Starlette(routes=[Route("/things", page_route, methods=["GET", "POST"])],
                     middleware=[Middleware(SessionMiddleware, secret_key="test")])


def test_a_pages_own_form_goes_on_or_shows_the_page_again_as_typed() -> None:
    created: list[dict[str, str]] = []
    with TestClient(_form_app(created), follow_redirects=False) as client:
        token = client.get("/things").json()["token"]
        done = client.post("/things", data={"csrf_token": token, "name": "Kettle"})
        assert (done.status_code, done.headers["location"]) == (303, "/things/1")
        assert created == [{"name": "Kettle", "colour": ""}]
        again = client.post("/things", data={"csrf_token": token, "colour": "red"})
        assert again.status_code == 422
        assert again.json() == {"form": {"name": "", "colour": "red"}, "token": token,
                                "error": "a name is required", "field": "name"}
        with pytest.raises(Forbidden):  # the app's handler makes it a 403 (tests/security)
            client.post("/things", data={"name": "No token"})
        assert len(created) == 1
