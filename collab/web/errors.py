"""The one place errors become responses: JSON on /api/, the error page or a flash elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from collab.errors import CollabError, Unauthenticated

from .templates import is_htmx, templates
from .toolkit import sign_in_redirect

log = logging.getLogger("collab.web")


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept)


def error_response(request: Request, status: int, code: str, message: str,
                   extra: dict[str, Any] | None = None) -> Response:
    if wants_json(request):
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
    if isinstance(exc, Unauthenticated) and request.method == "GET" and not wants_json(request) \
            and not is_htmx(request):
        # A members-only page asked for anonymously: the sign-in page, with a way back.
        return sign_in_redirect(request)
    response = error_response(request, exc.status, exc.code, exc.message, exc.extra)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response.headers["retry-after"] = str(retry_after)
    return response


_HTTP_CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "invalid", 409: "conflict", 413: "too_large", 422: "invalid",
               429: "rate_limited", 503: "unavailable"}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = "There is nothing at this address."
    return error_response(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "invalid"),
                          message)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """Anything unhandled: logged once with its traceback, answered in the usual shape."""
    try:
        return error_response(request, 500, "internal",
                              "Something went wrong on our side; nothing was changed. "
                              "Please try again.")
    except Exception:  # the error page itself failed: a plain answer, never a traceback
        log.exception("the error page failed")
        return JSONResponse({"error": {"code": "internal", "message": "internal error"}},
                            status_code=500)
