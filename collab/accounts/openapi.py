"""OpenAPI 3.1 path items of accounts' /api/ routes."""

from typing import Any

from collab.openapi import ID, NULLABLE_TIME, STRING, TIME, array, obj, op, path_id, ref

TAG = "accounts"
USERNAME = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{3,40}$",
            "description": "Compared ignoring case, exactly (never as a pattern)."}
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 1000}
ROLE = {"type": "string", "enum": ["member", "expert", "moderator", "admin"]}

SCHEMAS: dict[str, Any] = {
    "User": obj({"id": ID, "username": STRING, "display_name": STRING},
                ["id", "username", "display_name"]),
    "Me": obj({"id": ID, "username": STRING, "display_name": STRING, "roles": array(ROLE)},
              ["id", "username", "display_name", "roles"]),
    "Token": obj({
        "id": ID,
        "name": {"type": ["string", "null"], "maxLength": 80},
        "created_at": TIME,
        "last_used_at": {**NULLABLE_TIME, "description": "Updated at most once a minute."},
        "expires_at": {**TIME, "description": "TOKEN_TTL_DAYS (90) after it was issued."},
    }, ["id", "name", "created_at", "last_used_at", "expires_at"]),
    "Suspension": obj({"id": ID, "username": STRING, "display_name": STRING,
                       "roles": array(ROLE), "suspended": {"type": "boolean"}},
                      ["id", "username", "display_name", "roles", "suspended"]),
    "IssuedToken": {"allOf": [ref("Token"), obj(
        {"token": {"type": "string", "description": "The secret: shown only in this answer."}},
        ["token"])]},
}

_USERNAME = [{"name": "username", "in": "path", "required": True, "schema": STRING}]

PREFERENCES = obj({"time_zone": {"type": ["string", "null"], "description": (
    "IANA zone (or its city, e.g. Madrid) pages show times in; null: the browser's")}})

PATHS: dict[str, Any] = {
    "/api/users": {
        "post": op(
            "Register (the new account is a member; registering never makes an admin)",
            tag=TAG, ok=201, response=ref("User"), auth="none", errors=[409],
            body=obj({"username": USERNAME, "password": PASSWORD,
                      "display_name": {"type": "string", "minLength": 1, "maxLength": 80}},
                     ["username", "password"]),
            description="U+0000 or a lone surrogate in any field is `invalid` (422)."),
    },
    "/api/tokens": {
        "post": op(
            "Sign in: a new API token", tag=TAG, ok=201, response=ref("IssuedToken"),
            auth="none", errors=[401],
            body=obj({"username": STRING, "password": STRING,
                      "name": {"type": "string", "maxLength": 80}}, ["username", "password"]),
            description="At most LOGIN_ATTEMPTS_PER_MINUTE failed attempts per client address "
                        "and user name, and LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE per address, "
                        "then 429 with Retry-After; successful sign-ins do not count."),
        "get": op("My API tokens that have not expired (never their secrets)", tag=TAG,
                  response=obj({"tokens": array(ref("Token"))}, ["tokens"]), auth="required"),
    },
    "/api/tokens/{id}": {
        "delete": op(
            "Revoke one of my tokens", tag=TAG, ok=204, auth="required", errors=[404, 429],
            params=[path_id()],
            description="The token stops working at once, on HTTP and on every socket it "
                        "opened. Another member's token is 404, as a missing one is."),
    },
    "/api/me": {
        "get": op("Who I am, with my roles", tag=TAG, response=ref("Me"), auth="required"),
    },
    "/api/me/preferences": {
        "get": op("My preferences", tag=TAG, response=PREFERENCES, auth="required"),
        "put": op("Change my preferences (fields left out stay as they are)", tag=TAG,
                  response=PREFERENCES, auth="required", errors=[422], body=PREFERENCES),
    },
    "/api/users/{username}/roles": {
        "put": op(
            "Set a member's roles (admins; audited)", tag=TAG, response=ref("Me"),
            auth="required", errors=[403, 404, 409],
            params=_USERNAME,
            body=obj({"roles": array(ROLE)}, ["roles"]),
            description="`member` always stays; an admin cannot drop their own admin role "
                        "(409). The member's open sockets are checked again at once."),
    },
    "/api/users/{username}/suspend": {
        "post": op(
            "Suspend a member (admins; audited)", tag=TAG, response=ref("Suspension"),
            auth="required", errors=[403, 404, 409], params=_USERNAME,
            description="Their sessions and API tokens end and their open sockets close "
                        "(1008) at once, on every process; signing in is refused (403) until "
                        "the suspension is lifted. An admin cannot suspend themself (409)."),
    },
    "/api/users/{username}/unsuspend": {
        "post": op(
            "Lift a member's suspension (admins; audited)", tag=TAG,
            response=ref("Suspension"), auth="required", errors=[403, 404, 409],
            params=_USERNAME,
            description="They may sign in again (their old sessions and tokens stay ended)."),
    },
}
