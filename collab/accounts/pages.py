"""Sign-in, registration, sign-out and member pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.errors import CollabError, RateLimited
from collab.web import check_csrf, hub_of, render

from .api import client_key, sign_in_limiter
from .auth import SESSION_KEY
from .credentials import end_session, start_session
from .models import User
from .service import (
    Suspended,
    check_credentials,
    check_sign_in_input,
    create_user,
    validate_registration,
)


def _next_url(value: object) -> str:
    # Only same-site paths: an open redirect would let a link send people anywhere ("//x"
    # and "/\x" are other hosts to a browser; control characters have no place in a path).
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")) \
            and value.isprintable() and len(value) <= 2000:
        return value
    return "/rooms"


async def _login(request: Request, user: User) -> None:
    # A fresh session on sign-in prevents session fixation; the browser's previous one ends.
    previous = await end_session(request.session.get(SESSION_KEY))
    if previous is not None:
        await hub_of(request).access_changed(previous)
    request.session.clear()
    request.session[SESSION_KEY] = await start_session(user)


async def login(request: Request) -> Response:
    context: dict[str, object] = {"next": _next_url(request.query_params.get("next"))}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        username, password = form.get("username", ""), form.get("password")
        try:
            check_sign_in_input(username, password)
        except CollabError as exc:
            context["error"] = exc.message
            return render(request, "accounts/login.html", context, status_code=exc.status)
        context.update(username=_echo(username), next=_next_url(form.get("next")))
        limiter, address = sign_in_limiter(request), client_key(request)
        try:
            limiter.attempt(address, username)
        except RateLimited as exc:
            context["error"] = (f"Too many sign-in attempts. Try again in {exc.retry_after} "
                                "seconds.")
            return render(request, "accounts/login.html", context, status_code=429,
                          headers={"retry-after": str(exc.retry_after)})
        try:
            user = await check_credentials(username, password)
        except Suspended:
            limiter.succeeded(address, username)
            context["error"] = ("This account is suspended. Ask an administrator if you think "
                                "this is a mistake.")
            return render(request, "accounts/login.html", context, status_code=403)
        except CollabError:
            context["error"] = "Wrong username or password."
            return render(request, "accounts/login.html", context, status_code=401)
        limiter.succeeded(address, username)
        await _login(request, user)
        return RedirectResponse(str(context["next"]), status_code=303)
    return render(request, "accounts/login.html", context)


async def register(request: Request) -> Response:
    context: dict[str, object] = {}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        data = {k: form.get(k) for k in ("username", "password", "display_name")}
        context.update(username=_echo(data["username"]), display_name=_echo(data["display_name"]))
        try:
            validated = validate_registration(data)
            if form.get("password") != form.get("password_confirm"):
                context["error"] = "The two passwords differ."
                return render(request, "accounts/register.html", context, status_code=422)
            user = await create_user(*validated)
        except CollabError as exc:
            context["error"] = exc.message
            return render(request, "accounts/register.html", context, status_code=exc.status)
        await _login(request, user)
        return RedirectResponse("/rooms", status_code=303)
    return render(request, "accounts/register.html", context)


def _echo(value: object) -> str:
    """A form value shown back in the form: text only, without what no page should carry."""
    if not isinstance(value, str):
        return ""
    return value[:200].replace("\x00", "").encode("utf-8", "replace").decode()


async def logout(request: Request) -> Response:
    """Ends the session on the server (a copy of the cookie is dead too) and every socket
    it opened."""
    await check_csrf(request)
    user_id = await end_session(request.session.get(SESSION_KEY))
    request.session.clear()
    if user_id is not None:
        await hub_of(request).access_changed(user_id)
    return RedirectResponse("/", status_code=303)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/register", register, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
