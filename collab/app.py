"""`create_app()`: routes, middleware, channel kinds and lifespan, declared in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from collab import db, web
from collab.accounts import api as accounts_api
from collab.accounts import pages as accounts_pages
from collab.accounts.auth import SESSION_COOKIE, socket_authenticator
from collab.accounts.channels import UserChannel
from collab.accounts.middleware import SessionUserMiddleware
from collab.errors import CollabError
from collab.ratelimit import KeyedLimiter
from collab.realtime import Hub
from collab.realtime.endpoint import SocketEndpoint, SocketRouter
from collab.rooms import api as rooms_api
from collab.rooms import pages as rooms_pages
from collab.rooms.channels import RoomChannel, ThreadChannel
from collab.settings import Settings, from_env
from collab.writelimit import WriteRateLimitMiddleware

log = logging.getLogger("collab")


async def healthz(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    return JSONResponse({"status": "ok", "bus": "up" if hub.bus.connected.is_set() else "down"})


async def home(request: Request) -> Response:
    return RedirectResponse("/rooms", status_code=302)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application from explicit settings (tests) or the environment."""
    settings = settings or from_env()
    db.configure(settings.database_url)
    hub = Hub(settings)
    hub.register(RoomChannel)
    hub.register(ThreadChannel)
    hub.register(UserChannel)
    authenticate = socket_authenticator(settings.secret_key, settings.allowed_origins)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.connect()
        await hub.start()
        log.info("collab started: database %s, broadcast %s", settings.database_url.split(":")[0],
                 settings.broadcast_url.split(":")[0])
        try:
            yield
        finally:
            await hub.stop()
            await db.disconnect()

    routes = [
        Route("/", home),
        Route("/healthz", healthz),
        *accounts_api.routes,
        *rooms_api.routes,
        *accounts_pages.routes,
        *rooms_pages.routes,
        Mount("/static", StaticFiles(directory=str(web.STATIC_DIR)), name="static"),
    ]
    sockets = {"/ws": SocketEndpoint(hub, authenticate),
               "/ws/html": SocketEndpoint(hub, authenticate, html=True)}
    middleware = [
        Middleware(SocketRouter, endpoints=sockets),
        Middleware(web.SecurityHeadersMiddleware),
        Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                   same_site="lax", https_only=settings.secure_cookies),
        Middleware(SessionUserMiddleware),
        Middleware(WriteRateLimitMiddleware, limit=settings.http_writes_per_minute),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={CollabError: web.collab_error_handler,
                            HTTPException: web.http_error_handler},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.login_limiter = KeyedLimiter(settings.login_attempts_per_minute)
    return app


def __getattr__(name: str) -> Any:
    # `collab.app:app` is built from the environment on first use, so importing this
    # module (tests, the CLI) does not read the environment or create a secret file.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
