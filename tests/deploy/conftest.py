"""The deployment (deploy/ on four network namespaces) for the tests in this folder.

Needs root, `ip` (iproute2) and nginx, which scripts/test installs. Namespaces and processes
are removed at the end whatever happened, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from support.api import Api, User, unique_name

from .cluster import Deployment
from .netns import inside

EDGE_URL = "https://127.0.0.1"
WS_URL = "wss://127.0.0.1/ws"


class EdgeApi(Api):
    """The JSON API through nginx, over TLS checked against the test's own certificate."""

    def __init__(self, cert: Path) -> None:
        self.base_url = EDGE_URL
        self.http = httpx2.Client(base_url=EDGE_URL, timeout=30.0, trust_env=False,
                                  verify=ssl.create_default_context(cafile=str(cert)))


@dataclass
class Site:
    deployment: Deployment
    api: EdgeApi
    ssl: ssl.SSLContext
    admin: User
    members: list[User]
    figures: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if os.geteuid() != 0:
        pytest.fail("tests/deploy builds network namespaces: run it as root (CI does)")
    dep = Deployment(tmp_path_factory.mktemp("deployment"))
    try:
        dep.up()
        yield dep
    finally:
        dep.down()


@pytest.fixture(scope="module")
def site(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test's clients on the edge machine (beside nginx, as a browser on the Internet would
    reach it): this thread's sockets open in the edge namespace until the module ends."""
    # collab.client verifies TLS with the default context, which reads SSL_CERT_FILE.
    old = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(deployment.cert)
    try:
        with inside(deployment.ns("edge").path):
            admin_name = unique_name("admin")
            password = "correct horse battery staple"
            deployment.cli("h1", "createuser", "--username", admin_name, "--password", password,
                           "--role", "admin")
            api = EdgeApi(deployment.cert)
            token = api.token(admin_name, password)
            me = api.me(token)
            admin = User(int(me["id"]), admin_name, password, token, list(me["roles"]))
            members = [api.register() for _ in range(12)]
            yield Site(deployment, api, ssl.create_default_context(cafile=str(deployment.cert)),
                       admin, members, tmp_path_factory.getbasetemp() / "deploy-figures.txt")
            api.close()
    finally:
        if old is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = old


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    funcargs = getattr(item, "funcargs", {})
    dep = funcargs.get("deployment") or getattr(funcargs.get("site"), "deployment", None)
    if report.failed and isinstance(dep, Deployment):
        report.sections.append(("deployment logs", dep.logs()))
    return report
