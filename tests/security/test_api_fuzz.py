"""Property-based fuzzing of every /api/ route from its OpenAPI description (schemathesis).

Whatever the body, path and query: never a 500, always the JSON error shape on a refusal,
and no traceback in the server's log (checked when the module's server stops). Operations
come from the same description the server serves at /api/openapi.json.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from support.api import User
from support.servers import LiveServer

from collab.app import create_app
from collab.settings import Settings

EXAMPLES = 25
SPEC = create_app(Settings(secret_key="fuzz", environment="test")).state.openapi
OPERATIONS = [(path, method) for path, item in SPEC["paths"].items() for method in item
              if method in {"get", "post", "put", "patch", "delete"}]


@pytest.mark.parametrize(("path", "method"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_no_api_route_answers_500_to_anything(path: str, method: str, fuzz_server: LiveServer,
                                              fuzz_user: User) -> None:
    served = schemathesis.openapi.from_url(f"{fuzz_server.base_url}/api/openapi.json")
    operation = served[path][method]
    calls = 0

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(case=operation.as_strategy())
    def fuzz(case: schemathesis.Case) -> None:
        nonlocal calls
        for headers in ({"Authorization": f"Bearer {fuzz_user.token}"}, {}):
            response = case.call(base_url=fuzz_server.base_url, headers=headers)
            calls += 1
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            if response.status_code >= 400:
                error = response.json().get("error")
                assert isinstance(error, dict) and error.get("code") and "message" in error, \
                    response.text

    fuzz()
    assert calls > 0
