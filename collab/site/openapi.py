"""The OpenAPI description of the site's own `/api/` routes."""

from __future__ import annotations

from typing import Any

from collab.openapi import ID, INTEGER, NULLABLE_TIME, STRING, array, obj, op, query

HIT = obj({"source": STRING, "kind": STRING, "id": ID, "title": STRING, "url": STRING,
           "summary": STRING, "snippet_html": STRING, "date": NULLABLE_TIME})

PATHS: dict[str, Any] = {
    "/api/search": {
        "get": op("Search the whole site: every product's search source", tag="site",
                  errors=(422,),
                  params=[query("q", STRING, "search text (≤ 1,000 characters)"),
                          query("limit", {"type": "integer", "minimum": 1, "maximum": 50},
                                "hits per source (default 20)")],
                  response=obj({"q": STRING, "sources": array(obj({
                      "source": STRING, "label": STRING, "total": INTEGER,
                      "hits": array(HIT)}, ["source", "label", "hits"]))})),
    },
}
