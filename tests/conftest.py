"""Fixtures shared by every test directory: services, live servers, API helpers.

Services are throwaway processes started here (never the machine's own Redis or PostgreSQL), so
a test may stop and restart them. Failing tests get the logs of the servers that were running
appended to their report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# `support` is imported as a top-level package whatever pytest's import mode or whether tests/
# later becomes a package itself.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.api import Api, Forum, User, create_admin
from support.servers import RUNNING, LiveServer, ServerFactory
from support.services import PostgresCluster, RedisServer


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and RUNNING:
        for server in list(RUNNING):
            report.sections.append((f"server logs: {server.name}", server.logs()))
    return report


# -- services --------------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh `redis-server` for one test: `.url`, `.stop()`, `.start()` (same port)."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the session; `.create_database()` → a fresh DB URL."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """`postgresql://postgres@127.0.0.1:PORT/postgres` (the cluster's maintenance database)."""
    return postgres_cluster.url()


@pytest.fixture
def postgres_db(postgres_cluster: PostgresCluster) -> str:
    """A new, empty PostgreSQL database for one test: `postgresql://postgres@127.0.0.1:PORT/NAME`."""
    return postgres_cluster.create_database()


# -- live servers ----------------------------------------------------------------------------------


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers for one test: `live_server(database_url=?, broadcast_url=?, env={...})`.

    Each call runs `collab migrate` once per database URL, then starts uvicorn and waits for
    `/healthz`. Every server is stopped when the test ends.
    """
    factory = ServerFactory(tmp_path / "live")
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def session_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path_factory.mktemp("session-servers"))
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def _shared(session_servers: ServerFactory) -> tuple[LiveServer, User]:
    # Registering never makes an admin: the admin is made as an operator makes one.
    server = session_servers(name="shared")
    return server, create_admin(server)


@pytest.fixture(scope="session")
def server(_shared: tuple[LiveServer, User]) -> LiveServer:
    """A default server (SQLite file + memory://) shared by tests that need no special settings."""
    return _shared[0]


@pytest.fixture(scope="session")
def admin(_shared: tuple[LiveServer, User]) -> User:
    """An admin of the shared server, made with `collab createuser --role admin` (PROTOCOL.md:
    registering never makes an admin)."""
    return _shared[1]


@pytest.fixture(scope="session")
def api(server: LiveServer) -> Iterator[Api]:
    with Api(server.base_url) as client:
        yield client


@pytest.fixture(scope="session")
def public_room(api: Api, admin: User) -> dict[str, Any]:
    return api.create_room(admin.token, visibility="public")


@pytest.fixture
def forum(server: LiveServer, api: Api, admin: User, public_room: dict[str, Any]) -> Forum:
    thread = api.create_thread(admin.token, int(public_room["id"]))
    return Forum(server, api, admin, int(public_room["id"]), int(thread["id"]))


def pytest_report_header(config: pytest.Config) -> str:
    return f"collab tests: euid={os.geteuid()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, live_server: ServerFactory) -> str:
    """Each test that takes it runs twice: on a SQLite file and on a fresh PostgreSQL database
    (one URL several servers can share)."""
    if request.param == "sqlite":
        return live_server.new_sqlite_url()
    return str(request.getfixturevalue("postgres_db"))
