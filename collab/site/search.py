"""The site-wide search: `GET /api/search` and the `/search` page, over every domain's source.

The site does not know which products exist: it asks each `Domain.search` through
`collab.searching.everywhere`, so a new product's source shows up here by plugging in.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from collab.accounts.auth import current_user
from collab.errors import Invalid
from collab.searching import MAX_QUERY, Found, everywhere
from collab.web import int_param, render

PER_SOURCE = 20
MAX_PER_SOURCE = 50
PAGE_PER_SOURCE = 10


def _query(request: Request) -> str:
    q = request.query_params.get("q", "")
    if len(q) > MAX_QUERY:
        raise Invalid(f"q is longer than {MAX_QUERY} characters", extra={"field": "q"})
    if "\x00" in q:
        raise Invalid("q may not contain U+0000", extra={"field": "q"})
    return q.strip()


async def _found(request: Request, q: str, limit: int) -> list[Found]:
    if not q:
        return []
    return await everywhere(request.app.state.domains, q, await current_user(request), limit)


async def api_search(request: Request) -> JSONResponse:
    """`GET /api/search?q=&limit=`: each source's hits the caller may see, labelled."""
    limit = int_param(request, "limit", PER_SOURCE, minimum=1)
    if limit is not None and limit > MAX_PER_SOURCE:
        raise Invalid(f"limit must be at most {MAX_PER_SOURCE}", extra={"field": "limit"})
    q = _query(request)
    found = await _found(request, q, limit or PER_SOURCE)
    return JSONResponse({"q": q, "sources": [f.as_dict() for f in found]})


async def search_page(request: Request) -> Response:
    """`/search?q=`: one box over every product, hits grouped and labelled by product."""
    context: dict[str, Any] = {"q": "", "sources": [], "error": None}
    status = 200
    try:
        context["q"] = _query(request)
    except Invalid as exc:
        context.update(error=exc.message, q=request.query_params.get("q", "")[:MAX_QUERY])
        status = 422
    if status == 200 and context["q"]:
        context["sources"] = [f.as_dict() for f in await _found(request, context["q"],
                                                                  PAGE_PER_SOURCE)]
    return render(request, "site/search.html", context, status_code=status)
