"""A server of its own for fuzzing: its log must stay free of tracebacks whatever is thrown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.api import Api, User, unique_name
from support.servers import LiveServer, ServerFactory


@pytest.fixture(scope="module")
def fuzz_server(session_servers: ServerFactory) -> Iterator[LiveServer]:
    server = session_servers(name=unique_name("fuzz"), env={
        "HTTP_WRITES_PER_MINUTE": "0", "WS_SEND_RATE": "0",
        "WS_BAD_FRAMES_PER_MINUTE": "1000000", "LOGIN_ATTEMPTS_PER_MINUTE": "0"})
    yield server
    logs = server.logs()
    assert "Traceback" not in logs, f"the fuzzed server logged a traceback:\n{logs[-6000:]}"


@pytest.fixture(scope="module")
def fuzz_user(fuzz_server: LiveServer) -> User:
    with Api(fuzz_server.base_url) as api:
        return api.register(unique_name("fuzzer"))
