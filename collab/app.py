"""`create_app()`: routes, middleware, channel kinds and lifespan, declared in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab import db, logs, metrics, openapi, web
from collab.accounts.auth import SESSION_COOKIE, reauthenticate, socket_authenticator
from collab.accounts.middleware import SessionUserMiddleware
from collab.accounts.service import use_test_hashing
from collab.accounts.signin import SignInLimiter
from collab.domain import Domain
from collab.errors import CollabError
from collab.looplag import LoopLag
from collab.realtime import Hub
from collab.realtime.endpoint import SocketEndpoint, SocketRouter
from collab.settings import Settings, from_env
from collab.site import SITE
from collab.web import hub_of
from collab.web.live import LiveFragments
from collab.web.metrics import RequestTimer, allowed_networks, metrics_endpoint
from collab.web.static import StaticFiles
from collab.web.writelimit import WriteRateLimitMiddleware

log = logging.getLogger("collab")


# The database's answer to /healthz may take this long; past it, it is reported "slow" and the
# answer goes out anyway (the contract: within 100 ms, however busy the process).
HEALTH_DB_WAIT = 0.08


async def _database_state() -> str:
    try:
        async with asyncio.timeout(HEALTH_DB_WAIT):
            async with db.database.connection() as conn:
                await conn.execute(sqlalchemy.text("SELECT 1"))
    except TimeoutError:
        return "slow"
    except (OSError, sqlalchemy.exc.SQLAlchemyError):
        return "down"
    return "up"


async def healthz(request: Request) -> Response:
    """Liveness: the bus and the loop from what the process holds in memory, the database by
    one `SELECT 1` bounded by HEALTH_DB_WAIT, so it answers at once however busy they are."""
    hub = hub_of(request)
    looplag: LoopLag = request.app.state.looplag
    return JSONResponse({"status": "ok", "database": await _database_state(),
                         "bus": "up" if hub.bus.connected.is_set() else "down",
                         "loop_lag_ms": looplag.report()})


def export_metrics(hub: Hub, looplag: LoopLag) -> None:
    """The gauges this process's hub, loop and database pool answer at each scrape."""
    metrics.gauge("collab_sockets_open", "WebSocket connections open", lambda: len(hub.connections))
    metrics.gauge("collab_channels_followed", "channels this process has sockets in",
                  lambda: len(hub.delivery.channels))
    metrics.gauge("collab_bus_dropped_total", "frames not published on the bus (the broker "
                  "down or far behind; other processes repair them from the store)",
                  lambda: hub.bus.dropped, kind="counter")
    metrics.gauge("collab_bus_reconnects_total", "reconnections to the broker",
                  lambda: hub.bus.reconnects, kind="counter")
    metrics.gauge("collab_bus_up", "1 while the broker is connected",
                  lambda: int(hub.bus.connected.is_set()))
    metrics.gauge("collab_loop_lag_seconds", "how late the event loop ran, last sample",
                  lambda: looplag.current_ms / 1000)
    metrics.gauge("collab_loop_lag_max_seconds", "the largest event-loop lag of the last minute",
                  lambda: looplag.window_max_ms() / 1000)
    metrics.gauge("collab_loop_stalls_total", "event-loop lags of 100 ms or more",
                  lambda: looplag.stalls, kind="counter")
    for name, help, key in (
            ("collab_db_pool_size", "database connections kept open", "size"),
            ("collab_db_pool_checked_out", "database connections in use", "checked_out"),
            ("collab_db_pool_overflow", "database connections beyond the pool's size",
             "overflow")):
        metrics.gauge(name, help, lambda key=key: db.pool_status().get(key))


def create_app(settings: Settings | None = None,
               domains: Sequence[Domain] | None = None) -> Starlette:
    """Build the application from explicit settings (tests) or the environment."""
    settings = settings or from_env()
    logs.install()  # `?token=` secrets are redacted in uvicorn's log lines
    if domains is None:
        from collab.domains import DOMAINS

        domains = DOMAINS
    # The site's own pages (front door, search, audit log) plug in like a product, last.
    domains = [*domains, SITE]
    db.configure(settings.database_url)
    use_test_hashing(settings.environment == "test")
    hub = Hub(settings, renderer=LiveFragments())
    hub.reauthenticate = reauthenticate
    for domain in domains:
        for kind in domain.channels:
            hub.register(kind)
    authenticate = socket_authenticator(settings.secret_key, settings.allowed_origins)
    static = StaticFiles(web.STATIC_DIR)
    looplag = LoopLag(settings.loop_stall_log)
    export_metrics(hub, looplag)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        looplag.start(test_stalls=settings.environment == "test")
        await db.connect()
        await hub.start()
        for domain in domains:
            if domain.on_start is not None:
                await domain.on_start(hub)
        log.info("collab started: database %s, broadcast %s", settings.database_url.split(":")[0],
                 settings.broadcast_url.split(":")[0])
        try:
            yield
        finally:
            await hub.stop()
            await db.disconnect()
            await looplag.stop()

    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Route("/api/openapi.json", openapi.openapi_json),
        *(route for domain in domains for route in domain.routes),
        static.route(),
    ]
    sockets = {"/ws": SocketEndpoint(hub, authenticate),
               "/ws/html": SocketEndpoint(hub, authenticate, html=True)}
    middleware = [
        Middleware(SocketRouter, endpoints=sockets),
        Middleware(RequestTimer),
        Middleware(web.SecurityHeadersMiddleware),
        # HTML and JSON gzipped when the client accepts it (static files come gzipped).
        Middleware(GZipMiddleware, minimum_size=1024),
        Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                   same_site="lax", https_only=settings.secure_cookies),
        Middleware(SessionUserMiddleware),
        Middleware(WriteRateLimitMiddleware, limit=settings.http_writes_per_minute),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={CollabError: web.collab_error_handler,
                            HTTPException: web.http_error_handler,
                            Exception: web.server_error_handler},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.looplag = looplag
    app.state.metrics_allow = allowed_networks(settings.metrics_allow)
    app.state.domains = list(domains)
    app.state.openapi = openapi.build(domains)
    app.state.nav = sorted((entry for domain in domains for entry in domain.nav),
                           key=lambda entry: entry.order)
    app.state.static = static
    app.state.login_limiter = SignInLimiter(settings.login_attempts_per_minute,
                                            settings.login_attempts_per_address_per_minute)
    return app


def __getattr__(name: str) -> Any:
    # `collab.app:app` is built from the environment on first use, so importing this
    # module (tests, the CLI) does not read the environment or create a secret file.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
