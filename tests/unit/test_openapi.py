"""`/api/openapi.json` describes every /api/ route of the app, and only those."""

from __future__ import annotations

import re

METHODS = {"get", "post", "put", "patch", "delete"}

from starlette.routing import Route

from collab.app import create_app
from collab.settings import Settings


def _app_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(secret_key="openapi", environment="test"))
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/") \
                and route.path != "/api/openapi.json":
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((path, method.lower()))
    return found


def test_every_api_route_is_described() -> None:
    app = create_app(Settings(secret_key="openapi", environment="test"))
    spec = app.state.openapi
    assert spec["openapi"] == "3.1.0"
    described = {(path, method) for path, item in spec["paths"].items() for method in item
                 if method in METHODS}
    routes = _app_routes()
    assert routes - described == set(), "routes missing from the OpenAPI description"
    assert described - routes == set(), "described routes the app does not have"


def test_every_operation_answers_errors_in_the_error_shape() -> None:
    spec = create_app(Settings(secret_key="openapi", environment="test")).state.openapi
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method)
