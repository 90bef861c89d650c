"""Templates, CSRF, htmx helpers, security headers and the one place errors become responses."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collab.errors import CollabError, Forbidden

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _page_context(request: Request) -> dict[str, Any]:
    """What every page template sees: the signed-in user and the CSRF token."""
    return {"user": getattr(request.state, "user", None), "csrf_token": csrf_token(request)}


templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    ),
    context_processors=[_page_context],
)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse a cookie-authenticated write whose form or header lacks the session's token."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("the form has expired or did not come from this site; reload and retry")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page, or for an htmx request the fragment `fragment` names in the context."""
    context = dict(context or {})
    fragment = context.pop("fragment", None)
    template = fragment if fragment and is_htmx(request) else name
    return templates.TemplateResponse(request, template, context, status_code=status_code,
                                      headers=headers)


def error_response(request: Request, status: int, code: str, message: str,
                   extra: dict[str, Any] | None = None) -> Response:
    path = request.url.path
    if path.startswith("/api/") or "application/json" in request.headers.get("accept", "") \
            and "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"error": {"code": code, "message": message, **(extra or {})}},
                            status_code=status)
    if is_htmx(request):
        return templates.TemplateResponse(request, "_flash.html",
                                          {"kind": "error", "message": message},
                                          status_code=status, headers={"HX-Reswap": "none"})
    return templates.TemplateResponse(request, "error.html",
                                      {"status": status, "message": message}, status_code=status)


async def collab_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CollabError)
    response = error_response(request, exc.status, exc.code, exc.message, exc.extra)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response.headers["retry-after"] = str(retry_after)
    return response


_HTTP_CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "invalid", 409: "conflict", 413: "too_large", 422: "invalid",
               429: "rate_limited"}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = "There is nothing at this address."
    return error_response(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "invalid"),
                          message)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy and friends on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
