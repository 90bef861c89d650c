"""Property-based fuzzing of every /api/ route from its OpenAPI description (schemathesis).

Whatever the body, path and query: never a 500, always the JSON error shape on a refusal,
and no traceback in the server's log (checked when the module's server stops). Operations
come from the same description the server serves at /api/openapi.json. Every operation that
takes text is also sent the worst texts of issue 21 in each of its strings, and each answer
must cost the server at most 100 ms of CPU.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.api import User
from support.servers import LiveServer

from collab.app import create_app
from collab.settings import Settings

EXAMPLES = 25
SPEC = create_app(Settings(secret_key="fuzz", environment="test")).state.openapi
OPERATIONS = [(path, method) for path, item in SPEC["paths"].items() for method in item
              if method in {"get", "post", "put", "patch", "delete"}]
# Those that read text: a JSON body, or a string in the query (search).
TEXT_OPERATIONS = [(path, method) for path, method in OPERATIONS
                   if "requestBody" in SPEC["paths"][path][method]
                   or any(p.get("in") == "query" and p.get("schema", {}).get("type") == "string"
                          for p in SPEC["paths"][path][method].get("parameters", []))]
HOSTILE = ["![" * 25_000, "[" * 50_000, "<" * 50_000, "word " * 10_000, "\x00" * 2_000,
           "_*" * 10_000, "a\n" * 25_000, "\n" + " " * 19_998 + "x", "`a" * 10_000]
SERVER_CPU_S = 0.1  # tests/security/test_ws_fuzz.py says why this measure


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


def _hostile(value: Any, text: str) -> Any:
    if isinstance(value, str):
        return text
    if isinstance(value, list):
        return [_hostile(v, text) for v in value]
    if isinstance(value, dict):
        return {k: _hostile(v, text) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("path", "method"), TEXT_OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m in TEXT_OPERATIONS])
def test_no_api_route_is_slow_on_hostile_text(path: str, method: str, fuzz_server: LiveServer,
                                              fuzz_user: User) -> None:
    served = schemathesis.openapi.from_url(f"{fuzz_server.base_url}/api/openapi.json")
    operation = served[path][method]
    calls = 0

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(case=operation.as_strategy(), text=st.sampled_from(HOSTILE))
    def fuzz(case: schemathesis.Case, text: str) -> None:
        nonlocal calls
        case.body = _hostile(case.body, text)
        # A query string stays short enough for a request line.
        case.query = _hostile(case.query, text[:2_000]) if case.query else case.query
        cpu = fuzz_server.cpu_seconds()
        response = case.call(base_url=fuzz_server.base_url,
                             headers={"Authorization": f"Bearer {fuzz_user.token}"}, timeout=30)
        cost = fuzz_server.cpu_seconds() - cpu
        calls += 1
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        assert cost < SERVER_CPU_S, \
            f"{case.method} {case.formatted_path} with {text[:10]!r}... cost {cost:.2f} s of CPU"

    fuzz()
    assert calls > 0
