"""The demo members every other domain's seed data is written by (`collab seed`)."""

from __future__ import annotations

from collab.domain import SeedContext

from .service import create_user, user_by_name

DEMO_PASSWORD = "collab-demo"

USERS = [
    ("admin", "Site Admin", "admin"),
    ("maria.lopez", "María López", "moderator"),
    ("sam.okafor", "Sam Okafor", "expert"),
    ("jo.chen", "Jo Chen", "member"),
    ("priya.nair", "Priya Nair", "member"),
]


async def seed(ctx: SeedContext) -> str | None:
    """Create the demo users that do not exist yet; every domain's seed may use them."""
    made = []
    for username, display, role in USERS:
        user = await user_by_name(username)
        if user is None:
            user = await create_user(username, DEMO_PASSWORD, display, role)
            made.append(username)
        ctx.users[username] = user
    if not made:
        return None
    return (f"demo users {', '.join(made)} (password {DEMO_PASSWORD!r}, for local demos "
            "only)")
