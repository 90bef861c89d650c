"""Every accounts `/api/` route and method is in the OpenAPI description, and nothing else is."""

from __future__ import annotations

import re

from starlette.routing import Route

from collab import openapi
from collab.accounts import DOMAIN


def _documented_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def test_every_accounts_api_route_is_described() -> None:
    routes = {(_documented_path(r.path), m.lower())
              for r in DOMAIN.routes if isinstance(r, Route) and r.path.startswith("/api/")
              for m in (r.methods or ()) if m != "HEAD"}
    described = {(path, method) for path, item in DOMAIN.openapi_paths.items()
                 for method in item}
    assert routes == described


def test_the_description_builds_and_resolves_its_references() -> None:
    spec = openapi.build([DOMAIN])
    schemas = spec["components"]["schemas"]
    text = repr(spec)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in schemas, name
    token = spec["paths"]["/api/tokens"]["get"]["responses"]["200"]
    assert "token" not in schemas["Token"]["properties"], "a listed token never shows its secret"
    assert token["content"]["application/json"]["schema"]["properties"]["tokens"]
