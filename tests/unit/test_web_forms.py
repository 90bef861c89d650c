"""The no-JS form helper: one error policy, and a form's send through the channel's handler."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.datastructures import FormData
from starlette.responses import PlainTextResponse, Response

from collab.errors import CollabError, Conflict, Forbidden, Unauthenticated
from collab.realtime import Ack, Actor, Call, ChannelKind, handles
from collab.web.forms import form_action, form_fields, send_form

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
