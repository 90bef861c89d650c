"""OpenAPI 3.1 path items of the boards' /api/ routes (board changes go over `/ws`)."""

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
    obj,
    op,
    path_id,
    ref,
)

TAG = "boards"
DATE = {"type": ["string", "null"], "format": "date"}
ROLE = {"type": "string", "enum": ["owner", "member", "viewer"]}
VISIBILITY = {"type": "string", "enum": ["private", "public"]}

SCHEMAS: dict[str, Any] = {
    "Card": obj({
        "id": ID, "column_id": ID, "rank": STRING, "title": STRING, "version": INTEGER,
        "description": STRING, "description_html": STRING, "assignees": array(STRING),
        "due": DATE, "labels": array(STRING),
        "checklist": array(obj({"text": STRING, "done": BOOLEAN}, ["text", "done"])),
        "comments": INTEGER,
    }, ["id", "column_id", "rank", "title", "version", "description", "assignees", "due",
        "labels", "checklist", "comments"]),
    "BoardColumn": obj({"id": ID, "title": STRING, "rank": STRING,
                        "cards": array(ref("Card"))}, ["id", "title", "cards"]),
    "Board": obj({
        "id": ID, "project_id": ID,
        "project": obj({"id": ID, "name": STRING, "visibility": VISIBILITY}),
        "role": {"type": ["string", "null"], "enum": ["owner", "member", "viewer", None]},
        "seq": INTEGER, "epoch": STRING, "columns": array(ref("BoardColumn")),
    }, ["id", "project_id", "columns", "seq"]),
    "ProjectMember": obj({"id": ID, "username": STRING, "display_name": STRING, "role": ROLE,
                          "state": {"type": "string", "enum": ["member", "invited"]}},
                         ["id", "username", "role"]),
    "Progress": obj({
        "columns": array(obj({"id": ID, "title": STRING, "cards": INTEGER})),
        "total": INTEGER, "done": INTEGER, "share_done": {"type": "number"},
        "overdue": INTEGER,
        "overdue_cards": array(obj({"id": ID, "title": STRING, "due": DATE, "column": STRING})),
        "burnup": array(obj({"date": {"type": "string", "format": "date"}, "done": INTEGER,
                             "total": INTEGER})),
    }, ["columns", "total", "done", "share_done", "overdue", "burnup"]),
    "ProjectSummary": obj({
        "id": ID, "board_id": ID, "name": STRING, "description": STRING,
        "visibility": VISIBILITY, "created_at": TIME,
        "role": {"type": ["string", "null"]}, "cards": INTEGER,
    }, ["id", "board_id", "name", "visibility"]),
    "Project": obj({
        "id": ID, "board_id": ID, "name": STRING, "description": STRING,
        "visibility": VISIBILITY, "created_at": NULLABLE_TIME,
        "role": {"type": ["string", "null"]}, "members": array(ref("ProjectMember")),
        "progress": ref("Progress"), "muted": BOOLEAN,
    }, ["id", "board_id", "name", "visibility"]),
    "Comment": obj({"id": ID, "card_id": ID, "body": STRING, "body_html": STRING,
                    "author": obj({"id": ID, "username": STRING, "display_name": STRING}),
                    "created_at": TIME}),
}

_PROJECT_IN = obj({"name": {"type": "string", "minLength": 1, "maxLength": 120},
                   "description": {"type": "string", "maxLength": 5000},
                   "visibility": VISIBILITY}, ["name"])
_PRIVATE = ("A private project answers 404 to anyone who is not a member, exactly as one that "
            "does not exist.")



def _invited(operation: dict[str, Any]) -> dict[str, Any]:
    """Adding someone who left the project themself answers 202: they are invited back."""
    operation["responses"]["202"] = {
        "description": "Invited back (they left the project): a member once they accept",
        "content": {"application/json": {"schema": ref("ProjectMember")}}}
    return operation


PATHS: dict[str, Any] = {
    "/api/projects": {
        "get": op("Projects I may see: public ones and those I am a member of", tag=TAG,
                  response=obj({"projects": array(ref("ProjectSummary"))}, ["projects"])),
        "post": op("Create a project (I become its owner); its board starts with three "
                   "columns", tag=TAG, ok=201, auth="required", body=_PROJECT_IN,
                   response=ref("Project")),
    },
    "/api/projects/{id}": {
        "get": op("A project with its members and progress", tag=TAG, params=[path_id()],
                  response=ref("Project"), errors=[404], description=_PRIVATE),
        "patch": op("Change a project's name, description or visibility (owners; made "
                    "private, non-members following its board leave it at once)", tag=TAG,
                    params=[path_id()],
                    auth="required", response=ref("Project"), errors=[403, 404, 409],
                    body=obj({"name": STRING, "description": STRING,
                              "visibility": VISIBILITY})),
        "delete": op("Delete a project with its board (owners)", tag=TAG, ok=204,
                     params=[path_id()], auth="required", errors=[403, 404]),
    },
    "/api/projects/{id}/members": {
        "post": _invited(op(
            "Add a member with a role, or change a member's role (owners)", tag=TAG, ok=201,
            params=[path_id()], auth="required", errors=[403, 404, 409],
            body=obj({"username": STRING, "role": ROLE}, ["username"]),
            response=ref("ProjectMember"),
            description="201 when added, 200 when the role of a member changed. The last owner "
                        "cannot be demoted (409). Someone who left the project themself is only "
                        "invited back: 202 `{\"state\":\"invited\",…}` and an `invitation` "
                        "notification; they become a member when they accept.")),
    },
    "/api/projects/{id}/members/me": {
        "delete": op("Leave a project; from then on an owner adding me again only invites me",
                     tag=TAG, ok=204, params=[path_id()], auth="required", errors=[404, 409],
                     description="The last owner cannot leave (409)."),
    },
    "/api/projects/{id}/invitation": {
        "post": op("Accept or decline my invitation back to a project I left", tag=TAG,
                   params=[path_id()], auth="required", errors=[404, 422],
                   body=obj({"accept": BOOLEAN}, ["accept"]),
                   response=obj({"state": {"type": "string", "enum": ["member", "declined"]},
                                 "project_id": ID, "role": ROLE}, ["state", "project_id"]),
                   description="Without an invitation, 404 whether or not the project exists "
                               "(or is private). Accepted, I am a member with the role I was "
                               "invited with."),
    },
    "/api/projects/{id}/mute": {
        "put": op("Mute or unmute a project: its notifications (mentions, an invitation back) "
                  "stop reaching me", tag=TAG, params=[path_id()], auth="required",
                  errors=[404, 422], body=obj({"muted": BOOLEAN}, ["muted"]),
                  response=obj({"project_id": ID, "muted": BOOLEAN}, ["project_id", "muted"]),
                  description="Anyone who may see the project, or is invited back to it. A "
                              "mute outlives membership. " + _PRIVATE),
    },
    "/api/projects/{id}/members/{user_id}": {
        "delete": op("Remove a member (owners), or leave a project (the member)", tag=TAG,
                     ok=204, params=[path_id(), path_id("user_id")], auth="required",
                     errors=[403, 404, 409]),
    },
    "/api/boards/{id}": {
        "get": op("A board: columns and cards in order, and the seq to follow it from", tag=TAG,
                  params=[path_id()], response=ref("Board"), errors=[404],
                  description=_PRIVATE + " Join `board:ID` with `since` = `seq` to follow it."),
    },
    "/api/cards/{id}": {
        "get": op("A card with its comments", tag=TAG, params=[path_id()], errors=[404],
                  response={"allOf": [ref("Card"), obj({
                      "board_id": ID, "project_id": ID,
                      "comment_list": array(ref("Comment"))})]}),
    },
    "/api/me/tasks": {
        "get": op("Cards assigned to me across my projects, by due date (none last)", tag=TAG,
                  auth="required",
                  response=obj({"tasks": array({"allOf": [ref("Card"), obj({
                      "board_id": ID, "done": BOOLEAN,
                      "project": obj({"id": ID, "name": STRING}),
                      "column": obj({"id": ID, "title": STRING})})]})}, ["tasks"])),
    },
}
