"""`GET /metrics` (only from METRICS_ALLOW) and the request timer that labels by route template.

A raw path would make one series per thread, card and user name; the route's template
(`/api/threads/{id}`) keeps the series few; Starlette's router leaves the route it matched in
the scope.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collab import metrics
from collab.errors import Forbidden

UNMATCHED = "(unmatched)"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(items: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _allowed(host: str | None, networks: Sequence[Network]) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus text format, to the addresses in METRICS_ALLOW only."""
    networks = request.app.state.metrics_allow
    host = request.client.host if request.client else None
    if not _allowed(host, networks):
        # A machine's endpoint: the error as JSON whatever the client accepts (not a page).
        error = Forbidden("metrics are only served to the addresses in METRICS_ALLOW")
        return JSONResponse({"error": {"code": error.code, "message": error.message}},
                            status_code=error.status)
    return Response(await metrics.render(),
                    media_type="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


class RequestTimer:
    """Times every HTTP request into `collab_http_request_duration_seconds`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = scope.get("route")  # the router leaves the route it matched here
            template = getattr(route, "path", None) or UNMATCHED
            metrics.observe_request(template, scope["method"], status,
                                    time.perf_counter() - started)
