"""The web layer: templates, CSRF, errors, security headers, static files, the shared toolkit.

Domains import what they need from here; nothing in it knows a domain.
"""

from collab.people import person, role_badge, shown_name

from .csrf import CSRF_FIELD, CSRF_HEADER, check_csrf, csrf_token
from .errors import (
    collab_error_handler,
    error_response,
    http_error_handler,
    server_error_handler,
    wants_json,
)
from .formats import iso, when
from .security import CSP, SecurityHeadersMiddleware
from .templates import STATIC_DIR, TEMPLATES_DIR, is_htmx, render, render_fragment, templates
from .toolkit import (
    author_or_moderator,
    form_text,
    hub_of,
    id_param,
    int_param,
    is_moderator,
    page_param,
    parse_id,
    positive_param,
    read_json,
    sign_in_redirect,
)

__all__ = [
    "CSP", "CSRF_FIELD", "CSRF_HEADER", "STATIC_DIR", "TEMPLATES_DIR", "SecurityHeadersMiddleware",
    "author_or_moderator", "check_csrf", "collab_error_handler", "csrf_token", "error_response",
    "form_text", "http_error_handler", "hub_of", "id_param", "int_param", "is_htmx", "is_moderator", "iso",
    "page_param", "parse_id", "person", "positive_param", "read_json", "render", "render_fragment",
    "role_badge", "server_error_handler", "shown_name", "sign_in_redirect", "templates",
    "wants_json", "when",
]
