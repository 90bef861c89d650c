"""The board page and the card page, and the plain forms that change them without JavaScript.

With JavaScript the same forms are sent over the page's socket (`ws-send`) and every open
page applies the events; without it they POST here and come back to the page. The card
editor always posts here: a save made against an older version is refused and the page
shows both versions instead of overwriting someone else's change.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.accounts.auth import actor_of, current_user, require_user
from collab.accounts.models import User
from collab.errors import CollabError, Conflict, Invalid, NotFound
from collab.fields import id_field, int_field
from collab.web import (
    check_csrf,
    csrf_token,
    form_text,
    hub_of,
    render,
    render_fragment,
    sign_in_redirect,
)
from collab.web.forms import form_action, send_form

from . import cards, columns, progress, reads
from .access import Access, board_access
from .api import server_timing
from .card_fields import MAX_CHECKLIST, MAX_INDEX
from .models import Card

MAX_CHECKLIST_ROWS = MAX_CHECKLIST + 1



def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- rendering cards once -----------------------------------------------------------------------
# A board of 1,000 cards took ~120 ms of Jinja on a quiet core (70 outputs a card); a card's
# HTML depends only on the card, the board's columns and whether the viewer may write, so each
# version of a card is rendered once per process and reused. The CSRF token differs per session:
# cards are rendered with a placeholder (U+0000, which no stored text can contain) replaced
# once per page.
_CSRF = "\x00csrf\x00"
CARD_CACHE_SIZE = 20_000  # ~1 KiB each: about 20 MiB at most
_cards_html: OrderedDict[tuple[Any, ...], str] = OrderedDict()


def column_options(columns: list[dict[str, Any]]) -> dict[int, Markup]:
    """The "move to…" choices, with each column selected in turn (one string per column)."""
    out = {}
    for current in columns:
        out[current["id"]] = Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(
                c["id"], Markup(" selected") if c["id"] == current["id"] else "", c["title"])
            for c in columns)
    return out


def card_html(card: dict[str, Any], options: dict[int, Markup], columns_key: tuple[Any, ...],
              can_write: bool, today: str) -> str:
    key = (card["id"], card["version"], card["rank"], card["column_id"], card["comments"],
           can_write, today, columns_key)
    html = _cards_html.get(key)
    if html is None:
        html = render_fragment(
            "boards/_card.html", card=card, options=options, can_write=can_write, today=today, csrf_token=_CSRF,
            user=None)
        _cards_html[key] = html
        if len(_cards_html) > CARD_CACHE_SIZE:
            _cards_html.popitem(last=False)
    else:
        _cards_html.move_to_end(key)
    return html


def render_cards(board: list[dict[str, Any]], can_write: bool, today: str, csrf: str) -> None:
    """Each column's cards as one HTML string (`cards_html`), for the board page."""
    columns = [{"id": c["id"], "title": c["title"]} for c in board]
    columns_key = tuple((c["id"], c["title"]) for c in columns)
    options = column_options(columns)
    for column in board:
        html = "".join(card_html(card, options, columns_key, can_write, today)
                       for card in column["cards"])
        column["cards_html"] = Markup(html.replace(_CSRF, csrf))


def summary(board: list[dict[str, Any]]) -> dict[str, Any]:
    """Done, total and share done, as the board page shows them (and boards.js recomputes)."""
    total = sum(len(c["cards"]) for c in board)
    done = len(board[-1]["cards"]) if board else 0
    return {"total": total, "done": done,
            "percent": round(100 * done / total) if total else 0}


# -- the board ---------------------------------------------------------------------------------
async def board_context(request: Request, access: Access) -> dict[str, Any]:
    hub = hub_of(request)
    channel = f"board:{access.board_id}"
    # Head before the cards: a change in between is replayed over the socket (and applied by
    # id and rank, so seeing it twice is harmless); the other order would miss it.
    head = await hub.head(channel)
    board = await reads.board(access.board_id)
    today = progress.today().isoformat()
    render_cards(board, access.can_write, today, csrf_token(request))
    return {"access": access, "board_id": access.board_id, "board": board, "seq": head.seq,
            "epoch": head.epoch,
            "columns": [{"id": c["id"], "title": c["title"]} for c in board],
            "summary": summary(board), "members": await hub.members(channel),
            "can_write": access.can_write, "today": today}


async def board_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    """The board: columns of cards, live; drag and drop with JavaScript, forms without."""
    started = time.perf_counter()
    user = await current_user(request)
    access = await board_access(request.path_params["id"], user)
    context = await board_context(request, access)
    context["error"] = error
    return server_timing(render(request, "boards/board.html", context, status_code=status),
                         started)


async def _board_form(request: Request, board: int | Callable[[], Awaitable[int]],
                      action: Any, anchor: str = "", asked: str | None = None) -> Response:
    """A no-JS form of the board page: its `action` (the send the socket makes, through
    send_form), then back to the board, or the board again with the error on it.

    `board`: its id, or how to find it from what the form names (a column), looked up only
    once the visitor is signed in: an anonymous one got 403 for a private board's column and
    404 for a missing one, which told them it was there."""
    await check_csrf(request)
    user = await require_user(request)
    board_id = board if isinstance(board, int) else await board()
    access = await board_access(board_id, user, asked)
    form = await request.form()

    async def act() -> str:
        return await action(access, actor_of(user), form) or f"/boards/{board_id}{anchor}"

    async def again(exc: CollabError) -> Response:
        request.path_params["id"] = board_id
        return await board_page(request, error=exc.message, status=exc.status)

    return await form_action(act, again)


async def new_card(request: Request) -> Response:
    async def action(access: Access, actor: Any, form: FormData) -> str:
        ack = await send_form(request, actor, f"board:{access.board_id}", "card.create", {
            "column_id": form_text(form, "column_id"), "title": form_text(form, "title")})
        return f"/boards/{access.board_id}#card-{(ack.data or {})['id']}"

    return await _board_form(request, request.path_params["id"], action)


async def new_column(request: Request) -> Response:
    async def action(access: Access, actor: Any, form: FormData) -> str:
        ack = await send_form(request, actor, f"board:{access.board_id}", "column.create",
                              {"title": form_text(form, "title")})
        return f"/boards/{access.board_id}#column-{(ack.data or {})['id']}"

    return await _board_form(request, request.path_params["id"], action)


async def _column_board(column_id: int) -> int:
    board_id = await reads.column_board(column_id)
    if board_id is None:
        raise NotFound(f"no column {column_id}")
    return board_id


async def rename_column(request: Request) -> Response:
    column_id = request.path_params["id"]

    async def action(access: Access, actor: Any, form: FormData) -> None:
        await send_form(request, actor, f"board:{access.board_id}", "column.rename",
                        {"column_id": column_id, "title": form_text(form, "title")})

    return await _board_form(request, lambda: _column_board(column_id), action,
                             f"#column-{column_id}", f"column {column_id}")


async def move_column(request: Request) -> Response:
    column_id = request.path_params["id"]

    async def action(access: Access, actor: Any, form: FormData) -> None:
        await send_form(request, actor, f"board:{access.board_id}", "column.move",
                        {"column_id": column_id, "index": form_text(form, "index")})

    return await _board_form(request, lambda: _column_board(column_id), action,
                             f"#column-{column_id}", f"column {column_id}")


async def delete_column(request: Request) -> Response:
    """A confirmation page (how many cards go with it), then the delete."""
    user = await current_user(request)
    if user is None and request.method == "GET":
        return sign_in_redirect(request)
    user = await require_user(request)
    column_id = request.path_params["id"]
    access = await board_access(await _column_board(column_id), user, f"column {column_id}")
    access.require_write(user)
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        if form_text(form, "confirm") == "yes":
            await columns.delete_column(hub_of(request), actor_of(user), access,
                                        {"column_id": column_id, "force": True})
            return _redirect(f"/boards/{access.board_id}")
    board = await reads.board(access.board_id)
    column = next((c for c in board if c["id"] == column_id), None)
    if column is None:
        raise NotFound(f"no column {column_id}")
    return render(request, "boards/column_delete.html",
                  {"access": access, "column": column, "cards": len(column["cards"])})


# -- cards -------------------------------------------------------------------------------------
async def _card_access(card_id: int, user: User | None) -> Access:
    board_id = await reads.card_board(card_id)
    if board_id is None:
        raise NotFound(f"no card {card_id}")
    return await board_access(board_id, user, f"card {card_id}")


def card_form(form: FormData) -> dict[str, Any]:
    """The card editor's fields as a `card.update`'s data."""
    checklist = []
    for i in range(MAX_CHECKLIST_ROWS + 1):
        text = form_text(form, f"checklist-{i}-text").strip()
        if text:
            checklist.append({"text": text, "done": form_text(form, f"checklist-{i}-done") == "on"})
    labels = [part.strip() for part in form_text(form, "labels").split(",") if part.strip()]
    return {"title": form_text(form, "title"), "description": form_text(form, "description"),
            "due": form_text(form, "due") or None, "labels": labels,
            "assignees": [a for a in form.getlist("assignees") if isinstance(a, str)],
            "checklist": checklist}


async def card_context(request: Request, access: Access, card_id: int) -> dict[str, Any]:
    hub = hub_of(request)
    head = await hub.head(f"board:{access.board_id}")
    card = await reads.card(access.board_id, card_id)
    if card is None:
        raise NotFound(f"no card {card_id}")
    board_columns = await reads.columns_of(access.board_id)
    column = next((c for c in board_columns if c["id"] == card["column_id"]), None)
    members = [m for m in await reads.members(access.project_id)
               if m["role"] in ("owner", "member")]
    return {"access": access, "card": card, "form": card, "seq": head.seq, "epoch": head.epoch,
            "columns": board_columns, "column": column, "assignable": members,
            "comments": await reads.comments(card_id), "can_write": access.can_write,
            "done": bool(board_columns) and card["column_id"] == board_columns[-1]["id"],
            "today": progress.today().isoformat()}


async def card_page(request: Request) -> Response:
    """A card: its details, the editor, comments; POST saves the editor's fields."""
    user = await current_user(request)
    card_id = request.path_params["id"]
    access = await _card_access(card_id, user)
    if request.method == "GET":
        return render(request, "boards/card.html", await card_context(request, access, card_id))
    await check_csrf(request)
    user = await require_user(request)
    form = await request.form()
    data = card_form(form)

    async def action() -> str:
        await send_form(request, actor_of(user), f"board:{access.board_id}", "card.update",
                        {**data, "card_id": card_id, "version": form_text(form, "version")})
        return f"/cards/{card_id}"

    async def again(exc: CollabError) -> Response:
        context = await card_context(request, access, card_id)  # no such card: its 404
        # The editor keeps what was typed; on a conflict the card above shows their version
        # and the form carries the current version, so saving again replaces it knowingly.
        context.update(form={**context["card"], **data}, error=exc.message,
                       conflict=isinstance(exc, Conflict))
        return render(request, "boards/card.html", context, status_code=exc.status)

    return await form_action(action, again)


async def move_card(request: Request) -> Response:
    """The "move to…" form: a column and a position (1 = top; empty = the bottom)."""
    card_id = request.path_params["id"]
    await check_csrf(request)
    user = await require_user(request)
    access = await _card_access(card_id, user)
    form = await request.form()
    back = f"/cards/{card_id}" if form_text(form, "back") == "card" \
        else f"/boards/{access.board_id}#card-{card_id}"

    async def action(access: Access, actor: Any, form: FormData) -> str:
        column_id = id_field({"column_id": form_text(form, "column_id")}, "column_id")
        others = await _others_in(column_id, card_id)
        raw = form_text(form, "position").strip()
        if raw:
            position = int_field({"position": raw}, "position", minimum=1, maximum=MAX_INDEX)
            index = min(position - 1, others)  # a person's "last + 5" means the bottom
        else:
            index = others
        await send_form(request, actor, f"board:{access.board_id}", "card.move", {
            "card_id": card_id, "version": form_text(form, "version"),
            "column_id": column_id, "index": index})
        return back

    return await _board_form(request, access.board_id, action)


async def _others_in(column_id: int | None, card_id: int) -> int:
    table = Card.ormar_config.table
    async with reads.connection() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table).where(
            table.c.column_id == column_id, table.c.id != card_id))).scalar_one())


async def comment_card(request: Request) -> Response:
    card_id = request.path_params["id"]
    await check_csrf(request)
    user = await require_user(request)
    access = await _card_access(card_id, user)
    form = await request.form()
    body = form_text(form, "body")

    async def action() -> str:
        ack = await send_form(request, actor_of(user), f"board:{access.board_id}",
                              "card.comment", {"card_id": card_id, "body": body})
        return f"/cards/{card_id}#comment-{(ack.data or {})['id']}"

    async def again(exc: CollabError) -> Response:
        context = await card_context(request, access, card_id)  # no such card: its 404
        context.update(comment_error=exc.message, comment=body)
        return render(request, "boards/card.html", context, status_code=exc.status)

    return await form_action(action, again)


async def delete_card(request: Request) -> Response:
    user = await current_user(request)
    if user is None and request.method == "GET":
        return sign_in_redirect(request)
    user = await require_user(request)
    card_id = request.path_params["id"]
    access = await _card_access(card_id, user)
    access.require_write(user)
    card = await reads.card(access.board_id, card_id)
    if card is None:
        raise NotFound(f"no card {card_id}")
    context: dict[str, Any] = {"access": access, "card": card}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        if form_text(form, "confirm") == "yes":
            try:
                await cards.delete_card(hub_of(request), actor_of(user), access,
                                        {"card_id": card_id,
                                         "version": form_text(form, "version")})
            except Conflict as exc:
                context.update(error=exc.message, card=exc.extra.get("data", {}).get("card",
                                                                                    card))
                return render(request, "boards/card_delete.html", context, status_code=409)
            return _redirect(f"/boards/{access.board_id}")
        raise Invalid("confirm the deletion")
    return render(request, "boards/card_delete.html", context)


routes = [
    Route("/boards/{id:id}", board_page, methods=["GET"]),
    Route("/boards/{id:id}/cards", new_card, methods=["POST"]),
    Route("/boards/{id:id}/columns", new_column, methods=["POST"]),
    Route("/columns/{id:id}/rename", rename_column, methods=["POST"]),
    Route("/columns/{id:id}/move", move_column, methods=["POST"]),
    Route("/columns/{id:id}/delete", delete_column, methods=["GET", "POST"]),
    Route("/cards/{id:id}", card_page, methods=["GET", "POST"]),
    Route("/cards/{id:id}/move", move_card, methods=["POST"]),
    Route("/cards/{id:id}/comments", comment_card, methods=["POST"]),
    Route("/cards/{id:id}/delete", delete_card, methods=["GET", "POST"]),
]
