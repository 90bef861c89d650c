"""Sign-in, registration, sign-out and member pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.errors import CollabError, NotFound
from collab.web import check_csrf, render

from .api import client_key
from .auth import current_user
from .models import User
from .service import check_credentials, create_user, validate_registration


def _next_url(value: object) -> str:
    # Only same-site paths: an open redirect would let a link send people anywhere.
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value
    return "/rooms"


def _login(request: Request, user: User) -> None:
    request.session.clear()  # a fresh session on sign-in prevents session fixation
    request.session["user_id"] = user.id


async def login(request: Request) -> Response:
    context: dict[str, object] = {"next": _next_url(request.query_params.get("next"))}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        username = str(form.get("username", ""))
        context.update(username=username, next=_next_url(form.get("next")))
        limiter = request.app.state.login_limiter
        key = f"{client_key(request)}:{username[:40].lower()}"
        if not limiter.hit(key):
            context["error"] = (f"Too many sign-in attempts. Try again in "
                                f"{limiter.retry_after(key)} seconds.")
            return render(request, "accounts/login.html", context, status_code=429)
        try:
            user = await check_credentials(username, form.get("password"))
        except CollabError:
            context["error"] = "Wrong username or password."
            return render(request, "accounts/login.html", context, status_code=401)
        _login(request, user)
        return RedirectResponse(str(context["next"]), status_code=303)
    return render(request, "accounts/login.html", context)


async def register(request: Request) -> Response:
    context: dict[str, object] = {}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        data = {k: form.get(k) for k in ("username", "password", "display_name")}
        context.update(username=data["username"] or "", display_name=data["display_name"] or "")
        try:
            if form.get("password") != form.get("password_confirm"):
                context["error"] = "The two passwords differ."
                return render(request, "accounts/register.html", context, status_code=422)
            user = await create_user(*validate_registration(data))
        except CollabError as exc:
            context["error"] = exc.message
            return render(request, "accounts/register.html", context, status_code=exc.status)
        _login(request, user)
        return RedirectResponse("/rooms", status_code=303)
    return render(request, "accounts/register.html", context)


async def logout(request: Request) -> Response:
    await check_csrf(request)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


async def member(request: Request) -> Response:
    profile = await User.objects.get_or_none(username=request.path_params["username"])
    if profile is None:
        raise NotFound("no such member")
    return render(request, "accounts/member.html",
                  {"profile": profile, "user": await current_user(request)})


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/register", register, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/members/{username}", member, methods=["GET"]),
]
