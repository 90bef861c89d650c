"""Q&A and chat exports for the host after the event: CSV (for a spreadsheet) and Markdown
(for a write-up), streamed a thousand rows at a time so a long chat never sits in memory.

Only the host and moderators may export (the files name every author); anyone else gets the
same 404 as for a webinar they may not see, or 403 when they may see it. A cell that begins
with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so a spreadsheet never runs it as a
formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from collab import db
from collab.accounts.auth import current_user
from collab.accounts.models import User
from collab.errors import Forbidden, NotFound
from collab.web import iso, shown_name, sign_in_redirect

from . import service
from .models import ChatMessage, Question

BATCH = 1000
_q, _m = Question.ormar_config.table, ChatMessage.ormar_config.table
_u = User.ormar_config.table
WHAT = {"questions": ("Questions", ["asked_at", "author", "question", "votes", "state",
                                    "answered_at"]),
        "chat": ("Chat", ["sent_at", "author", "message"])}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


async def _rows(webinar_id: int, what: str) -> AsyncIterator[list[Any]]:
    """The export's rows in order, read a batch at a time (keyset on id)."""
    table = _q if what == "questions" else _m
    after = 0
    while True:
        query = (sa.select(table, _u.c.username, _u.c.display_name)
                 .select_from(table.join(_u, _u.c.id == table.c.author_id))
                 .where(table.c.webinar_id == webinar_id, table.c.id > after)
                 .order_by(table.c.id).limit(BATCH))
        if what == "questions":
            query = query.where(_q.c.state != "pending")
        else:
            query = query.where(_m.c.deleted.is_(False))
        async with db.database.connection() as conn:
            batch = (await conn.execute(query)).all()
        for r in batch:
            author = shown_name(r)
            if what == "questions":
                yield [iso(r.created_at), author, r.body, r.votes, r.state, iso(r.answered_at)]
            else:
                yield [iso(r.created_at), author, r.body]
        if len(batch) < BATCH:
            return
        after = batch[-1].id


async def _csv(rows: AsyncIterator[list[Any]], header: list[str]) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    async for row in rows:
        writer.writerow([_safe(v) for v in row])
        if out.tell() > 64_000:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _md_cell(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    for char in "\\|*_`[]<>#":
        text = text.replace(char, "\\" + char)
    return text


async def _markdown(rows: AsyncIterator[list[Any]], title: str, heading: str,
                    header: Iterable[str]) -> AsyncIterator[str]:
    columns = list(header)
    yield (f"# {_md_cell(title)}: {heading.lower()}\n\n"
           f"| {' | '.join(columns)} |\n|{'---|' * len(columns)}\n")
    chunk: list[str] = []
    async for row in rows:
        chunk.append("| " + " | ".join(_md_cell(v) for v in row) + " |\n")
        if len(chunk) >= 500:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


async def export(request: Request) -> Response:
    """`/webinars/{id}/export/{questions|chat}.{csv|md}` for the host and moderators."""
    what, fmt = request.path_params["what"], request.path_params["format"]
    if what not in WHAT or fmt not in ("csv", "md"):
        raise NotFound("There is nothing at this address.")
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    webinar = await service.get_webinar(request.path_params["id"], user)
    if not service.seat_for(webinar.id, webinar.host.id, user, False).moderates:
        raise Forbidden("Only the host and moderators may export the webinar's Q&A and chat.")
    heading, header = WHAT[what]
    rows = _rows(webinar.id, what)
    name = f"webinar-{webinar.id}-{what}.{fmt}"
    if fmt == "csv":
        body, media = _csv(rows, header), "text/csv; charset=utf-8"
    else:
        body, media = _markdown(rows, webinar.title, heading, header), \
            "text/markdown; charset=utf-8"
    return StreamingResponse(body, media_type=media, headers={
        "content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})


routes = [Route("/webinars/{id:id}/export/{what}.{format}", export, methods=["GET"])]
