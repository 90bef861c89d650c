"""Small helpers every domain's API and pages share, so that none of them exists twice."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse

from collab.errors import Invalid, NotFound, TooLarge
from collab.fields import cursor_field

if TYPE_CHECKING:
    from collab.realtime import Hub

# Ids are ASCII digits of a number that fits the id columns: ormar's Integer is a 32-bit
# INTEGER on PostgreSQL, where asyncpg refuses 2^31 and more before the query runs (a 500 on
# every route with an id, until ids were bounded here). Anything else names nothing: a 404.
MAX_ID = 2**31 - 1
MAX_PAGE = 10_000
# 0 to 2147483647 without leading zeros beyond ten digits; a test checks the edges.
_ID_REGEX = ("[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
             "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]"
             "|214748364[0-7]")


class IdConvertor(Convertor[int]):
    """`{id:id}` in a route: ASCII digits of a number from 0 to 2^31 - 1 (0 names nothing)."""

    regex = f"(?:{_ID_REGEX})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


def parse_id(value: Any) -> int | None:
    """An id from a form, query or JSON value: a positive int below 2^31, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str) and 0 < len(value) <= 18 and value.isascii() and value.isdigit():
        number = int(value)
        return number if 0 < number <= MAX_ID else None
    return None


# Far above any object the API takes (a library entry's fields are under 300 KB); a larger
# body is refused as it streams in, not read whole first.
MAX_JSON_BODY = 1024 * 1024


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or `invalid` (`too_large` past MAX_JSON_BODY)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise TooLarge(f"the body is larger than {MAX_JSON_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BODY:
            raise TooLarge(f"the body is larger than {MAX_JSON_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[…]]]]
        raise Invalid("the body must be JSON") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    return data


def int_param(request: Request, name: str, default: int | None = None, *,
              minimum: int = 0, maximum: int | None = None) -> int | None:
    """An integer query parameter within [minimum, maximum] (clamped above), else `invalid`."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise Invalid(f"{name} must be a whole number", extra={"field": name})
    value = int(raw)
    if value < minimum:
        raise Invalid(f"{name} must be at least {minimum}", extra={"field": name})
    return min(value, maximum) if maximum is not None else value


def id_param(request: Request, name: str, *, minimum: int = 1) -> int | None:
    """An id-like query parameter (a cursor such as `before`/`after`, a revision number): None
    when absent, else `cursor_field`'s rule (ASCII digits up to 2^31 - 1), else `invalid`.
    Every API route reads such parameters through here; pages that would rather show the first
    page for a malformed link use `positive_param`, the same rule without the error."""
    return cursor_field(request.query_params, name, minimum=minimum)


def page_param(request: Request) -> int:
    """`?page=N` for pages: 1 when absent or malformed; past MAX_PAGE there is nothing."""
    raw = request.query_params.get("page", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) < 1:
        return 1
    page = int(raw)
    if page > MAX_PAGE:
        raise NotFound("There is no such page.")
    return page


def positive_param(request: Request, name: str) -> int | None:
    """A positive id-like query parameter, or None when absent or malformed."""
    return parse_id(request.query_params.get(name, ""))


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def hub_of(request: Request) -> Hub:
    """The app's hub, for a route that writes through its door or reads a channel."""
    hub: Hub = request.app.state.hub
    return hub


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, with a way back to where the visitor was going."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def is_moderator(person: Any) -> bool:
    return person is not None and person.has_role("moderator", "admin")


def author_or_moderator(person: Any, author_id: int) -> bool:
    """May `person` change something `author_id` wrote? Its author or a moderator may."""
    return person is not None and (person.id == author_id or is_moderator(person))
