"""OpenAPI 3.1 path items of the webinars' /api/ routes."""

from __future__ import annotations

from typing import Any

from collab.openapi import (
    BOOLEAN,
    ID,
    INTEGER,
    NULLABLE_TIME,
    STRING,
    TIME,
    array,
    id_query,
    obj,
    op,
    path_id,
    query,
    ref,
)

TAG = "webinars"
USER = obj({"id": ID, "username": STRING, "display_name": STRING})
NULLABLE_INT = {"type": ["integer", "null"]}

WEBINAR_INPUT = obj({
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string", "maxLength": 20000, "description": "Markdown"},
    "starts_at": {"type": "string", "description": "ISO 8601; with an offset it is that "
                  "instant, without one a wall-clock time in `timezone`"},
    "ends_at": {"type": "string", "description": "as starts_at; default one hour later"},
    "timezone": {"type": "string", "description": "IANA zone name (default UTC)"},
    "speakers": array({"type": "string", "maxLength": 100}),
    "visibility": {"enum": ["public", "members"]},
    "capacity": {"type": ["integer", "null"], "minimum": 1},
    "link": {"type": "string", "description": "stream or meeting address (http/https)"},
    "premoderation": BOOLEAN,
})

SCHEMAS: dict[str, Any] = {
    "Webinar": obj({
        "id": ID, "title": STRING, "description": STRING, "description_html": STRING,
        "starts_at": TIME, "ends_at": TIME, "timezone": STRING,
        "local_starts_at": STRING, "local_ends_at": STRING,
        "speakers": array(STRING), "host": USER, "visibility": {"enum": ["public", "members"]},
        "capacity": NULLABLE_INT, "registered_count": INTEGER, "seats_left": NULLABLE_INT,
        "link": {"type": ["string", "null"],
                 "description": "only for registered attendees, the host and moderators"},
        "has_link": BOOLEAN, "premoderation": BOOLEAN, "slow_mode_seconds": INTEGER,
        "status": {"enum": ["upcoming", "live", "past"]}, "registered": BOOLEAN,
        "created_at": TIME, "updated_at": TIME,
    }, ["id", "title", "starts_at", "ends_at", "timezone", "host", "visibility", "status"]),
    "WebinarQuestion": obj({
        "id": ID, "webinar_id": ID, "body": STRING, "author": USER,
        "state": {"enum": ["pending", "open", "answered"]}, "votes": INTEGER,
        "created_at": TIME, "answered_at": NULLABLE_TIME,
    }),
    "WebinarPoll": obj({
        "id": ID, "webinar_id": ID, "question": STRING, "options": array(STRING),
        "counts": array(INTEGER), "closed": BOOLEAN, "created_at": TIME,
    }),
    "WebinarMessage": obj({
        "id": ID, "webinar_id": ID, "body": STRING, "author": USER, "created_at": TIME,
        "deleted": BOOLEAN,
    }),
}

WEBINAR_ROOM = {"allOf": [ref("Webinar"), obj({
    "questions": array(ref("WebinarQuestion")), "polls": array(ref("WebinarPoll")),
    "my_votes": array(ID), "my_poll_votes": {"type": "object",
                                             "additionalProperties": INTEGER},
    "attendees": obj({"count": INTEGER, "members": {
        **array(USER), "maxItems": 100,
        "description": "The first 100 by username; GET /api/channels/webinar:ID/presence "
                       "pages the rest."}}),
    "role": {"type": ["string", "null"], "enum": ["host", "moderator", "member", None]},
    "muted": BOOLEAN, "seq": INTEGER, "epoch": STRING,
})]}

PATHS: dict[str, Any] = {
    "/api/webinars": {
        "get": op("Upcoming or past webinars", tag=TAG, params=[
            query("when", {"enum": ["upcoming", "past"]}, "upcoming (default) or past"),
            query("offset", {"type": "integer", "minimum": 0}),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
        ], response=obj({"webinars": array(ref("Webinar")), "total": INTEGER,
                         "when": STRING, "offset": INTEGER, "limit": INTEGER}),
            errors=[422]),
        "post": op("Schedule a webinar (experts, moderators, admins; the creator hosts)",
                   tag=TAG, ok=201, body=WEBINAR_INPUT, response=ref("Webinar"),
                   auth="required", errors=[403]),
    },
    "/api/webinars/{id}": {
        "parameters": [path_id()],
        "get": op("A webinar with its questions, polls and attendees", tag=TAG,
                  response=WEBINAR_ROOM, errors=[401, 404]),
        "patch": op("Edit a webinar (host, moderators)", tag=TAG, body=WEBINAR_INPUT,
                    response=WEBINAR_ROOM, auth="required", errors=[403, 404, 409]),
    },
    "/api/webinars/{id}/register": {
        "parameters": [path_id()],
        "post": op("Register (201; 200 if already registered; 409 when full or over)",
                   tag=TAG, ok=201, response=ref("Webinar"), auth="required",
                   errors=[404, 409, 429]),
        "delete": op("Cancel my registration", tag=TAG, ok=204, auth="required",
                     errors=[404]),
    },
    "/api/webinars/{id}/messages": {
        "parameters": [path_id()],
        "get": op("The chat, oldest first (newest page, or before/after a message id)",
                  tag=TAG, params=[
                      id_query("before"), id_query("after", minimum=0),
                      query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                  ], response=obj({"webinar_id": ID, "messages": array(ref("WebinarMessage"))}),
                  errors=[401, 404, 422]),
    },
}
