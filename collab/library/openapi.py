"""OpenAPI 3.1 path items of the library's /api/ routes."""

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

TAG = "library"
STRINGS = array(STRING)
NULLABLE_INT = {"type": ["integer", "null"]}
PERSON = obj({"id": ID, "username": STRING, "display_name": STRING},
             ["id", "username", "display_name"])
OUTCOME = obj({"label": STRING, "value": {"type": ["number", "string"]}, "unit": STRING},
              ["label", "value"])
KIND = {"type": "string", "enum": ["article", "case_study", "paper"]}
LEVEL = {"type": "string", "enum": ["municipal", "regional", "national", "international"]}
STATE = {"type": "string",
         "enum": ["draft", "submitted", "in_review", "changes_requested", "published"]}

CONTENT = {
    "title": STRING, "summary": STRING, "body": {**STRING, "description": "Markdown"},
    "topics": {**STRINGS, "description": "topic slugs (GET /api/library/topics)"},
    "authors": STRINGS,
    "jurisdiction": {**STRING, "description": "case study"},
    "level": {**LEVEL, "description": "case study"},
    "problem": {**STRING, "description": "case study (Markdown)"},
    "actions": {**STRING, "description": "case study (Markdown)"},
    "outcomes": {**array(OUTCOME), "description": "case study: figures with units"},
    "lessons": {**STRING, "description": "case study (Markdown)"},
    "contacts": {**STRINGS, "description": "case study"},
    "year": {**INTEGER, "description": "paper (required), case study (optional)"},
    "publisher": {**STRING, "description": "paper"},
    "url": {**STRING, "description": "paper: http(s) link"},
    "doi": {**STRING, "description": "paper"},
    "abstract": {**STRING, "description": "paper (Markdown)"},
}

NEW_ENTRY = obj({"kind": KIND, **CONTENT}, ["kind", "title", "summary", "topics"])
EDIT = obj(CONTENT)
REVISION = obj({"number": INTEGER, "published_at": NULLABLE_TIME, "created_at": TIME,
                "editor": PERSON}, ["number", "published_at", "editor"])
HISTORY = obj({"revision": INTEGER, "action": STRING, "from_state": STRING, "to_state": STRING,
               "comment": STRING, "created_at": TIME,
               "actor": {"oneOf": [PERSON, {"type": "null"}]}})
ENTRY = obj({
    "id": ID, "kind": KIND, "state": STATE, "featured": BOOLEAN, "url": STRING,
    "author": PERSON, "created_at": TIME, "updated_at": TIME,
    "first_published_at": NULLABLE_TIME, "published_at": NULLABLE_TIME,
    "published_revision": NULLABLE_INT, "latest_revision": INTEGER,
    "revision": {**INTEGER, "description": "the revision shown"},
    "revision_published_at": NULLABLE_TIME, "editor": PERSON, **CONTENT,
    "topic_names": STRINGS, "body_html": STRING,
    "revisions": array(REVISION),
    "reviewed_by": {"oneOf": [PERSON, {"type": "null"}],
                    "description": "the expert who approved the revision shown"},
    "reviewer": {"oneOf": [PERSON, {"type": "null"}],
                 "description": "author, experts and admins only"},
    "history": {**array(HISTORY), "description": "author, experts and admins only"},
}, ["id", "kind", "state", "title", "summary", "topics", "revisions"])
RESULT = obj({"id": ID, "kind": KIND, "kind_label": STRING, "title": STRING, "summary": STRING,
              "snippet_html": {**STRING, "description": "escaped text; matches in <mark>"},
              "title_html": STRING, "url": STRING, "published_at": TIME, "topics": STRINGS,
              "jurisdiction": STRING, "level": STRING, "year": NULLABLE_INT,
              "featured": BOOLEAN}, ["id", "kind", "title", "summary", "snippet_html"])
COUNTS = {"type": "object", "additionalProperties": INTEGER}
SEARCH = obj({"total": INTEGER, "page": INTEGER, "pages": INTEGER, "per_page": INTEGER,
              "sort": STRING, "matched": {"type": "string", "enum": ["all", "any", "none"]},
              "results": array(ref("LibraryResult")),
              "facets": obj({"kind": COUNTS, "topic": COUNTS, "level": COUNTS,
                             "year": COUNTS}),
              "did_you_mean": STRING},
             ["total", "results", "facets"])
LIST_ITEM = obj({"id": ID, "kind": KIND, "state": STATE, "title": STRING, "summary": STRING,
                 "latest_revision": INTEGER, "published_revision": NULLABLE_INT,
                 "updated_at": TIME, "author": PERSON, "reviewer_id": NULLABLE_INT})
ENTRY_ERRORS = (403, 404, 409)
SEARCH_PARAMS = [
    query("q", STRING, "search text (≤ 1,000 characters): words, \"phrases\", -excluded"),
    query("kind", KIND), query("topic", STRING), query("jurisdiction", STRING),
    query("level", LEVEL), query("year", INTEGER),
    query("sort", {"type": "string", "enum": ["relevance", "date"]}),
    query("page", {"type": "integer", "minimum": 1, "maximum": 10_000}),
    query("per_page", {"type": "integer", "minimum": 1, "maximum": 50}),
]


def _step(summary: str, body: Any = None, description: str = "") -> dict[str, Any]:
    return {"post": op(summary, tag=TAG, response=ref("LibraryEntry"), body=body,
                       auth="required", errors=ENTRY_ERRORS, params=[path_id()],
                       description=description)}


PATHS: dict[str, Any] = {
    "/api/library": {
        "get": op("Search published entries", tag=TAG, response=ref("LibrarySearch"),
                  params=SEARCH_PARAMS, errors=(422,)),
        "post": op("Write a new entry (a draft)", tag=TAG, ok=201, response=ref("LibraryEntry"),
                   body=ref("LibraryNewEntry"), auth="required"),
    },
    "/api/library/topics": {
        "get": op("Topics with their number of published entries", tag=TAG,
                  response=obj({"topics": array(obj({"slug": STRING, "name": STRING,
                                                     "count": INTEGER}))})),
        "post": op("Add a topic (experts, moderators, admins)", tag=TAG, ok=201,
                   body=obj({"name": STRING, "description": STRING}, ["name"]),
                   response=obj({"slug": STRING, "name": STRING, "description": STRING}),
                   auth="required", errors=(403, 409)),
    },
    "/api/library/mine": {
        "get": op("My entries, drafts and published", tag=TAG, auth="required",
                  response=obj({"entries": array(ref("LibraryListItem"))})),
    },
    "/api/library/queue": {
        "get": op("The review queue (experts)", tag=TAG, auth="required", errors=(403,),
                  response=obj({"waiting": array(ref("LibraryListItem")),
                                "mine": array(ref("LibraryListItem")),
                                "others": array(ref("LibraryListItem"))})),
    },
    "/api/library/{id}": {
        "get": op("An entry: its published revision (drafts only to their author and experts)",
                  tag=TAG, response=ref("LibraryEntry"), errors=(404, 422),
                  params=[path_id(), id_query("revision", "another revision")]),
        "put": op("Edit (author); on a published entry this starts a new revision", tag=TAG,
                  response=ref("LibraryEntry"), body=ref("LibraryEdit"), auth="required",
                  errors=ENTRY_ERRORS, params=[path_id()],
                  description="Fields not given keep their value."),
    },
    "/api/library/{id}/submit": _step("Submit for review (author)",
                                      obj({"comment": STRING})),
    "/api/library/{id}/withdraw": _step("Take a revision back from review (author)"),
    "/api/library/{id}/claim": _step("Claim for review (an expert, not the author)"),
    "/api/library/{id}/review": _step(
        "Approve (publishes) or request changes (the claiming expert)",
        obj({"decision": {"type": "string", "enum": ["approve", "request_changes"]},
             "comment": {**STRING, "description": "required to request changes"}},
            ["decision"])),
    "/api/library/{id}/feature": {
        "post": op("Feature a published entry (experts, moderators, admins)", tag=TAG,
                   body=obj({"featured": BOOLEAN}), auth="required", errors=ENTRY_ERRORS,
                   params=[path_id()], response=obj({"id": ID, "featured": BOOLEAN})),
    },
    "/api/library/{id}/diff": {
        "get": op("The differences between two revisions", tag=TAG, errors=(404, 422),
                  params=[path_id(), {**id_query("from"), "required": True},
                          {**id_query("to"), "required": True}],
                  response=obj({"id": ID, "kind": KIND, "from": INTEGER, "to": INTEGER,
                                "changes": array(obj({
                                    "field": STRING, "label": STRING, "list": BOOLEAN,
                                    "too_different": BOOLEAN,
                                    "ops": array(obj({"op": {"type": "string", "enum": [
                                        "equal", "insert", "delete"]}, "text": STRING}))}))})),
    },
}

SCHEMAS: dict[str, Any] = {
    "LibraryNewEntry": NEW_ENTRY,
    "LibraryEdit": EDIT,
    "LibraryEntry": ENTRY,
    "LibraryResult": RESULT,
    "LibrarySearch": SEARCH,
    "LibraryListItem": LIST_ITEM,
}
