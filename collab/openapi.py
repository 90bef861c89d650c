"""The OpenAPI 3.1 description of `/api/`, served at `/api/openapi.json`.

Each domain describes its own routes (`Domain.openapi_paths`, `Domain.openapi_schemas`) with
the small builders here; the app merges them. A test fails when an `/api/` route of the app
is missing from the description, so it stays true.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

ERROR = {"$ref": "#/components/schemas/Error"}
_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content", 400: "Bad request",
                401: "Not signed in, or the token is not valid", 403: "Not allowed",
                404: "Not found", 409: "Conflict", 413: "Too large", 422: "Invalid input",
                429: "Too many requests", 503: "Unavailable for now"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: Mapping[str, Any], required: Iterable[str] = (), *,
        extra: bool = True) -> dict[str, Any]:
    """A JSON object schema."""
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    required = list(required)
    if required:
        schema["required"] = required
    if not extra:
        schema["additionalProperties"] = False
    return schema


def array(items: Any) -> dict[str, Any]:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def path_id(name: str = "id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}


def query(name: str, schema: Any, description: str = "") -> dict[str, Any]:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def id_query(name: str, description: str = "", *, minimum: int = 1) -> dict[str, Any]:
    """An id-like query parameter (a cursor, a revision number): ASCII digits up to 2^31 - 1;
    anything else is answered 422 (`collab.web.id_param`). tests/integration/test_route_bounds.py
    tries every parameter declared this way with values out of range."""
    return query(name, {"type": "integer", "minimum": minimum, "maximum": 2**31 - 1},
                 description)


def op(summary: str, *, tag: str, ok: int = 200, response: Any = None,
       body: Any = None, auth: str = "optional", errors: Iterable[int] = (),
       params: Iterable[dict[str, Any]] = (), description: str = "") -> dict[str, Any]:
    """One operation. `auth`: "required" (bearer token), "optional" or "none"."""
    operation: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if description:
        operation["description"] = description
    params = list(params)
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
    responses: dict[str, Any] = {}
    if ok == 204:
        responses["204"] = {"description": _STATUS_TEXT[204]}
    else:
        responses[str(ok)] = {"description": _STATUS_TEXT.get(ok, "OK"),
                              "content": {"application/json": {
                                  "schema": response if response is not None else {}}}}
    codes = set(errors) | {429, 503} if body is not None else set(errors)
    if auth == "required":
        codes.add(401)
        operation["security"] = [{"bearer": []}]
    elif auth == "optional":
        operation["security"] = [{}, {"bearer": []}]
    else:
        operation["security"] = [{}]
    if body is not None:
        codes.add(422)
    for code in sorted(codes):
        responses[str(code)] = {"description": _STATUS_TEXT.get(code, "Error"),
                                "content": {"application/json": {"schema": ERROR}}}
    operation["responses"] = responses
    return operation


CORE_SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": obj({"code": STRING, "message": STRING}, ["code", "message"])},
                 ["error"]),
}


def build(domains: Iterable[Any]) -> dict[str, Any]:
    """The whole description: every domain's paths and schemas."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = dict(CORE_SCHEMAS)
    for domain in domains:
        for path, item in domain.openapi_paths.items():
            if path in paths:
                raise ValueError(f"{path} is described by two domains")
            paths[path] = item
        schemas.update(domain.openapi_schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "collab", "version": "1",
                 "description": "The HTTP API of collab; the `/ws` protocol is described in "
                                "docs/protocol.md."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.openapi)
