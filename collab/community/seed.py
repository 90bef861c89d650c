"""The demo members' profiles (`collab seed`): enough for the directory to find someone."""

from __future__ import annotations

from collab.domain import SeedContext

from . import profiles

PROFILES = {
    "maria.lopez": {"organisation": "Northbridge City Council", "title": "Head of procurement",
                    "level": "municipal", "jurisdiction": "Northbridge",
                    "topics": ["procurement", "digital-services"],
                    "bio": "Twenty years of buying for a city. Ask me about splitting "
                           "contracts into lots."},
    "sam.okafor": {"organisation": "National Digital Service", "title": "Commercial lead",
                   "level": "national", "jurisdiction": "National government",
                   "topics": ["procurement", "data-analytics"],
                   "bio": "Outcome-based requirements, frameworks and supplier markets."},
    "jo.chen": {"organisation": "Harbour Regional Authority", "title": "Service designer",
                "level": "regional", "jurisdiction": "Harbour Region",
                "topics": ["digital-services", "citizen-engagement"], "bio": ""},
    "priya.nair": {"organisation": "Northbridge City Council", "title": "Data analyst",
                   "level": "municipal", "jurisdiction": "Northbridge",
                   "topics": ["data-analytics", "emergency-response"], "bio": ""},
}


async def seed(ctx: SeedContext) -> str | None:
    """Profiles for the demo members that have none yet."""
    made = []
    for username, fields in PROFILES.items():
        user = ctx.users.get(username)
        current = await profiles.profile(user.id) if user is not None else None
        if current is None or current["organisation"]:
            continue  # no such demo member, or a profile they already wrote
        await profiles.save(user.id, await profiles.validate(dict(fields)))
        made.append(username)
    return f"profiles of {', '.join(made)}" if made else None
