"""The site-wide search box: every other domain's `SearchSource`, asked at once.

The library does not know which domains exist: it loops over the app's `Domain` list and asks
each one that has a search source (the forum's threads, ...), with a time limit, so a slow
source elsewhere never holds the library's own results.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from collab.domain import SearchHit

SOURCE_TIMEOUT = 2.0
OWN_SOURCE = "library"


async def everywhere(request: Request, query: str, viewer: Any, limit: int
                     ) -> list[dict[str, Any]]:
    """Every domain's search source (the forum's threads, ...) for the site-wide box."""
    sources = [d.search for d in request.app.state.domains
               if d.search is not None and d.search.name != OWN_SOURCE]

    async def ask(source: Any) -> list[SearchHit]:
        try:
            return await asyncio.wait_for(source.search(query, viewer, limit), SOURCE_TIMEOUT)
        except TimeoutError:
            return []

    found = await asyncio.gather(*(ask(s) for s in sources))
    return [{"source": s.name, "label": s.label,
             "hits": [hit_dict(h) for h in hits]}
            for s, hits in zip(sources, found, strict=True) if hits]


def hit_dict(hit: SearchHit) -> dict[str, Any]:
    return {"source": hit.source, "kind": hit.kind, "id": hit.id, "title": hit.title,
            "url": hit.url, "summary": hit.summary, "snippet_html": hit.snippet_html,
            "date": hit.date}
