"""`collab seed`: every domain adds its part of the demo community, in the list's order."""

from __future__ import annotations

from collab.domain import Domain, SeedContext
from collab.realtime import Hub
from collab.settings import Settings


async def seed(settings: Settings, domains: list[Domain] | None = None) -> str:
    """Seed each domain that has nothing yet; returns what was added."""
    if domains is None:
        from collab.domains import DOMAINS

        domains = DOMAINS
    # Seeding runs outside the server: events go to the store; no socket is listening yet.
    hub = Hub(settings.with_(broadcast_url="memory://"))
    for domain in domains:
        for kind in domain.channels:
            hub.register(kind)
    await hub.prepare()
    ctx = SeedContext(hub=hub, settings=settings)
    added = []
    for domain in domains:
        if domain.seed is not None:
            done = await domain.seed(ctx)
            if done:
                added.append(done)
    return "seeded " + "; ".join(added) if added else "nothing to seed: the demo data is there"
