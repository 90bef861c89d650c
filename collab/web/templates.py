"""Jinja2 templates: one environment, the context every page sees, page-or-fragment rendering."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from collab.people import shown_name
from collab.zones import shown

from .csrf import CSRF_FIELD, csrf_token
from .formats import iso, when

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


def _page_context(request: Request) -> dict[str, Any]:
    """What every page template sees: the signed-in user, the CSRF token, the nav bar."""
    user = getattr(request.state, "user", None)
    nav = getattr(request.app.state, "nav", ()) if "app" in request.scope else ()
    return {"user": user, "csrf_token": csrf_token(request),
            "viewer_zone": getattr(user, "time_zone", None) or "",
            "nav_entries": [entry for entry in nav if entry.visible_to(user)]}


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["iso"] = iso
environment.filters["when"] = when
# `{{ post.author|name }}`: a member as pages name them (a user, an actor or its dict).
environment.filters["name"] = shown_name


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """`{{ csrf_field() }}` in a form: the hidden CSRF input, or nothing in a fragment rendered
    outside a request (pushed over the socket: the page's own forms carry the token)."""
    token = context.get("csrf_token")
    if not token:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


environment.globals["csrf_field"] = csrf_field


@jinja2.pass_context
def local_time(context: jinja2.runtime.Context, value: dt.datetime | str | None,
               style: str = "datetime", zone: str | None = None) -> Markup:
    """`{{ local_time(webinar.starts_at) }}`: a `<time>` in the viewer's zone, named (their
    saved zone, else UTC; times.js then shows it in the browser's zone unless one is saved).
    With `zone` (a webinar's own), it stays in that zone."""
    if value is None or value == "":
        return Markup("")
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    user = context.get("user")
    shown_zone = zone or getattr(user, "time_zone", None) or "UTC"
    return Markup('<time datetime="{}"{}>{}</time>').format(
        iso(moment), Markup("") if zone else Markup(' data-local="{}"').format(style),
        shown(moment, shown_zone, style))


environment.globals["local_time"] = local_time

templates = Jinja2Templates(env=environment, context_processors=[_page_context])


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page, or for an htmx request the fragment `fragment` names in the context."""
    context = dict(context or {})
    fragment = context.pop("fragment", None)
    template = fragment if fragment and is_htmx(request) else name
    return templates.TemplateResponse(request, template, context, status_code=status_code,
                                      headers=headers)


def render_fragment(name: str, **context: Any) -> str:
    """A template rendered outside a request (live fragments pushed over the socket)."""
    return environment.get_template(name).render(**context)
