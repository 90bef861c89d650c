"""OpenAPI 3.1 path items of the community's /api/ routes (profiles and the directory)."""

from typing import Any

from collab.openapi import INTEGER, STRING, TIME, array, obj, op, query, ref

from .profiles import LEVELS, LIMITS, MAX_QUERY, MAX_TOPICS, PER_PAGE

TAG = "community"
LEVEL = {"type": "string", "enum": ["", *LEVELS],
         "description": "Level of government, as the library's `level`; empty: not said."}
TOPICS = {**array({"type": "string", "maxLength": 40}), "maxItems": MAX_TOPICS,
          "description": "Slugs of the library's topics (GET /api/library/topics)."}


def _text(name: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": LIMITS[name]}


CARD = {"username": STRING, "display_name": STRING, "organisation": _text("organisation"),
        "title": _text("title"), "level": LEVEL, "jurisdiction": _text("jurisdiction"),
        "topics": TOPICS, "badges": array(STRING)}

SCHEMAS: dict[str, Any] = {
    "MemberCard": obj(CARD, list(CARD)),
    "Contribution": obj({"label": STRING, "count": INTEGER,
                         "url": {"type": ["string", "null"]}}, ["label", "count", "url"]),
    "MemberProfile": {"allOf": [ref("MemberCard"), obj({
        "bio": {**_text("bio"), "description": "Plain text (shown escaped, never as HTML)."},
        "joined_at": TIME,
        "contributions": {**array(ref("Contribution")), "description": (
            "What the member did in each product, counted as the caller may see it.")},
    }, ["bio", "joined_at", "contributions"])]},
}

_USERNAME = [{"name": "username", "in": "path", "required": True, "schema": STRING}]

PATHS: dict[str, Any] = {
    "/api/me/profile": {
        "put": op(
            "Change my profile (fields left out stay as they are)", tag=TAG,
            response=ref("MemberProfile"), auth="required", errors=[413],
            body=obj({"organisation": _text("organisation"), "title": _text("title"),
                      "level": LEVEL, "jurisdiction": _text("jurisdiction"),
                      "topics": TOPICS, "bio": _text("bio")}),
            description="A field over its bound, an unknown level or topic, or U+0000 is "
                        "`invalid` (422) with `field` naming it."),
    },
    "/api/members": {
        "get": op(
            "The member directory (signed-in members; suspended members are left out)",
            tag=TAG, auth="required", errors=[422],
            response=obj({"total": INTEGER, "page": INTEGER, "per_page": INTEGER,
                          "results": array(ref("MemberCard"))},
                         ["total", "page", "per_page", "results"]),
            params=[query("q", {"type": "string", "maxLength": MAX_QUERY},
                          "Words in the name, organisation, job title or jurisdiction"),
                    query("organisation", {"type": "string", "maxLength": MAX_QUERY},
                          "Part of the organisation's name, ignoring case"),
                    query("level", LEVEL),
                    query("topic", STRING, "A topic slug"),
                    query("page", {"type": "integer", "minimum": 1},
                          f"{PER_PAGE} members a page, by name")]),
    },
    "/api/members/{username}": {
        "get": op("A member's profile and contributions (signed-in members)", tag=TAG,
                  response=ref("MemberProfile"), auth="required", errors=[404],
                  params=_USERNAME),
    },
}
