"""OpenAPI 3.1 path items of the forum's /api/ routes (served at /api/openapi.json)."""

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

TAG = "forum"
PERSON = obj({"id": ID, "username": STRING, "display_name": STRING},
             ["id", "username", "display_name"])
VISIBILITY = {"type": "string", "enum": ["public", "members"]}

SCHEMAS: dict[str, Any] = {
    "Person": PERSON,
    "Room": obj({"id": ID, "name": STRING, "description": STRING, "visibility": VISIBILITY,
                 "thread_count": INTEGER, "created_at": TIME},
                ["id", "name", "description", "visibility", "thread_count", "created_at"]),
    "Thread": obj({"id": ID, "room_id": ID, "title": STRING, "author": ref("Person"),
                   "created_at": TIME, "last_post_at": TIME, "post_count": INTEGER,
                   "locked": BOOLEAN, "pinned": BOOLEAN},
                  ["id", "room_id", "title", "author", "created_at", "last_post_at",
                   "post_count", "locked", "pinned"]),
    "Post": obj({"id": ID, "thread_id": ID, "seq": INTEGER, "body": STRING,
                 "body_html": STRING, "author": ref("Person"), "created_at": TIME,
                 "edited_at": NULLABLE_TIME, "deleted": BOOLEAN},
                ["id", "thread_id", "seq", "body", "body_html", "author", "created_at",
                 "edited_at", "deleted"]),
}

_limit = query("limit", {"type": "integer", "minimum": 0}, "page size (bounded)")
_offset = query("offset", {"type": "integer", "minimum": 0})

PATHS: dict[str, Any] = {
    "/api/rooms": {
        "get": op("List the rooms the caller may see", tag=TAG,
                  response=obj({"rooms": array(ref("Room"))}, ["rooms"])),
        "post": op("Create a room (moderators, admins)", tag=TAG, ok=201, auth="required",
                   response=ref("Room"), errors=(403, 409),
                   body=obj({"name": {"type": "string", "minLength": 1, "maxLength": 100},
                             "description": {"type": "string", "maxLength": 2000},
                             "visibility": VISIBILITY}, ["name"])),
    },
    "/api/rooms/{id}": {
        "get": op("One room", tag=TAG, params=[path_id()], response=ref("Room"),
                  errors=(401, 404)),
    },
    "/api/rooms/{id}/threads": {
        "get": op("A room's threads, pinned first, then by latest activity", tag=TAG,
                  params=[path_id(), _offset, _limit], errors=(401, 404, 422),
                  response=obj({"room": ref("Room"), "threads": array(ref("Thread")),
                                "total": INTEGER}, ["room", "threads", "total"])),
        "post": op("Start a thread; its body is the first post", tag=TAG, ok=201,
                   auth="required", params=[path_id()], response=ref("Thread"),
                   errors=(404,),
                   body=obj({"title": {"type": "string", "minLength": 1, "maxLength": 200},
                             "body": {"type": "string", "minLength": 1, "maxLength": 20000}},
                            ["title", "body"])),
    },
    "/api/threads/{id}": {
        "get": op("A thread and its posts in seq order", tag=TAG,
                  params=[path_id(), id_query("after", minimum=0), _limit],
                  errors=(401, 404, 422),
                  response={"allOf": [ref("Thread"), obj(
                      {"posts": array(ref("Post")), "next_after": {"type": ["integer", "null"]},
                       "seq": INTEGER, "epoch": STRING,
                       "last_read_seq": {"type": ["integer", "null"],
                                         "description": "signed-in callers: read up to"}},
                      ["posts", "next_after", "seq", "epoch"])]}),
    },
    "/api/threads/{id}/read": {
        "post": op("Mark the thread read up to a seq (never lowered)", tag=TAG, auth="required",
                   params=[path_id()], errors=(401, 404, 422),
                   body=obj({"seq": {"type": "integer", "minimum": 0}}, ["seq"]),
                   response=obj({"last_read_seq": INTEGER}, ["last_read_seq"])),
    },
    "/api/flags": {
        "get": op("Open flags (moderators)", tag=TAG, auth="required",
                  params=[_offset, _limit], errors=(403, 422),
                  response=obj({"flags": array(obj(
                      {"id": ID, "reason": STRING, "post_id": ID, "reporter": STRING,
                       "created_at": TIME}))}, ["flags"])),
    },
    "/api/flags/{id}": {
        "post": op("Dismiss a flag or delete the post it points at (moderators)", tag=TAG,
                   auth="required", params=[path_id()], errors=(403, 404, 409),
                   body=obj({"action": {"type": "string", "enum": ["dismiss", "delete"]}},
                            ["action"]),
                   response=obj({"id": ID, "resolution": STRING}, ["id", "resolution"])),
    },
}
