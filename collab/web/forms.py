"""Pages without JavaScript: one way for every domain to take a form post.

A form does what its socket `send` would do, through the same channel handler
(`send_form`), or a domain's own action; either way `form_action` applies the one policy:
done, the browser goes on (303) to where the action says; refused, the page it came from is
shown again with the message on it and the refusal's status. Signing in is the one refusal
that is not shown on the page: it goes to the sign-in page, with a way back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collab.errors import CollabError, Unauthenticated
from collab.realtime.channels import Ack, Actor, Call, parse_id, split_channel

from .csrf import CSRF_FIELD, check_csrf
from .toolkit import form_text, hub_of

# Form fields that steer the form (where to go back, the send's type) rather than carry data.
NOT_DATA = frozenset({CSRF_FIELD, "type", "back", "key"})


async def posted(request: Request, names: Collection[str]) -> dict[str, str]:
    """A form post's text fields `names` (absent ones empty), once its CSRF token is checked."""
    await check_csrf(request)
    form = await request.form()
    return {name: form_text(form, name) for name in names}


async def post_form(request: Request, names: Collection[str],
                    action: Callable[[dict[str, str]], Awaitable[str]],
                    page: Callable[[int], Awaitable[Response]], context: dict[str, Any]
                    ) -> Response:
    """A page's own form: its text fields `names` go to `action`, then 303 on; refused, `page`
    again with the form as typed (`form` in `context`) and the error."""
    data = await posted(request, names)
    return await form_action(lambda: action(data), again_on(page, context, form=data))


def form_fields(form: FormData, lists: Collection[str] = ()) -> dict[str, Any]:
    """A form's data as a `send` carries it: text fields, and the fields named in `lists`
    (repeated inputs) as lists."""
    data: dict[str, Any] = {}
    for name in form:
        if name in NOT_DATA:
            continue
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        data[name] = values if name in lists else (values[0] if values else "")
    return data


async def send_form(request: Request, actor: Actor, channel: str, type: str,
                    data: dict[str, Any]) -> Ack:
    """Perform `type` on `channel` as the socket would: the kind's `join` gives the grant,
    its handler for `type` does the rest (the same rules for a form and a `ws-send`)."""
    kind_name, raw_id = split_channel(channel)
    kind = hub_of(request).kinds[kind_name]
    id = parse_id(raw_id, kind_name)
    grant = await kind.join(actor, id)
    return await kind.perform(Call(actor, channel, id, type[:64], data, grant, None))


def again_on(page: Callable[[int], Awaitable[Response]], context: dict[str, Any],
             **typed: Any) -> Callable[[CollabError], Awaitable[Response]]:
    """The usual `again` for `form_action`: `page(status)` rendered with `context` updated with
    what was typed (`typed`), the error's message and the field it names, if any."""
    async def again(exc: CollabError) -> Response:
        context.update(typed, error=exc.message, field=exc.extra.get("field"))
        return await page(exc.status)

    return again


async def form_action(action: Callable[[], Awaitable[str]],
                      again: Callable[[CollabError], Awaitable[Response]]) -> Response:
    """Run a form's `action`; 303 to the address it returns, or `again(error)`: the form's
    page with the error's message, answered with its status."""
    try:
        target = await action()
    except Unauthenticated:
        raise
    except CollabError as exc:
        return await again(exc)
    return RedirectResponse(target, status_code=303)
