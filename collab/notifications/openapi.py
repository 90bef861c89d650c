"""The OpenAPI description of the notifications' `/api/` routes."""

from __future__ import annotations

from typing import Any

from collab.openapi import BOOLEAN, ID, INTEGER, NULLABLE_TIME, STRING, array, obj, op, query

TAG = "notifications"
NOTE = obj({"id": ID, "kind": STRING, "text": STRING, "url": STRING,
            "actor": {"type": ["object", "null"]}, "created_at": NULLABLE_TIME,
            "read": BOOLEAN}, ["id", "kind", "text", "url", "created_at", "read"])

PATHS: dict[str, Any] = {
    "/api/notifications": {
        "get": op("My notifications, newest first, fifty a page", tag=TAG, auth="required",
                  errors=(401, 422),
                  params=[query("before", ID, "an id: older ones"),
                          query("unread", {"type": "string", "enum": ["1", "0"]},
                                "1: the unread ones only")],
                  response=obj({"unread": INTEGER, "results": array(NOTE)},
                               ["unread", "results"])),
    },
    "/api/notifications/read": {
        "post": op("Mark notifications read (every open page hears the new count)", tag=TAG,
                   auth="required", errors=(401, 422),
                   body=obj({"ids": array(ID), "all": BOOLEAN}),
                   response=obj({"unread": INTEGER}, ["unread"])),
    },
}
