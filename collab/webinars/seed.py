"""The webinars' part of the demo community (`collab seed`): a past one with its record, one
live now, and two upcoming."""

from __future__ import annotations

import datetime as dt

from collab.accounts.auth import actor_of
from collab.clock import utcnow
from collab.domain import SeedContext

from . import live, moderation, service
from .models import Webinar


def _at(delta: dt.timedelta) -> str:
    return (utcnow() + delta).replace(second=0, microsecond=0).isoformat() + "Z"


async def seed(ctx: SeedContext) -> str | None:
    """Add demo webinars, unless the database already has some."""
    if await Webinar.objects.exists():
        return None
    users = ctx.users
    sam, maria = users["sam.okafor"], users["maria.lopez"]
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    now_one = await service.create_webinar(sam, {
        "title": "Outcome-based procurement in practice",
        "description": "How three councils wrote **outcome-based** requirements, and what "
                       "they would do differently.\n\nBring your questions: we answer the "
                       "most upvoted ones first.",
        "starts_at": _at(-hour / 2), "ends_at": _at(hour), "timezone": "Europe/London",
        "speakers": ["Sam Okafor", "Ana Ribeiro"], "capacity": 200,
        "link": "https://meet.example.org/outcomes"})
    await service.create_webinar(maria, {
        "title": "Plain-language warnings workshop",
        "description": "A hands-on session: rewrite a flood warning with residents' feedback.",
        "starts_at": _at(3 * day), "ends_at": _at(3 * day + 2 * hour),
        "timezone": "Europe/Paris", "speakers": ["Maria Lopez"], "capacity": 30,
        "premoderation": True})
    await service.create_webinar(sam, {
        "title": "Members' clinic: measuring digital services",
        "description": "An open clinic for members: bring your dashboards.",
        "starts_at": _at(10 * day), "timezone": "America/New_York", "visibility": "members"})
    past = await service.create_webinar(maria, {
        "title": "Accessibility audits that stick",
        "description": "Why the same findings come back, and how teams stopped them.",
        "starts_at": _at(-3 * hour), "ends_at": _at(-hour / 6), "timezone": "UTC",
        "speakers": ["Priya Nair"]})
    # The live one gets a conversation (the past one keeps its record from before it ended).
    for webinar in (past, now_one):
        await Webinar.objects.filter(id=webinar.id).update(ends_at=utcnow() + 3 * hour)
        jo, priya = actor_of(users["jo.chen"]), actor_of(users["priya.nair"])
        await live.send_chat(ctx.hub, jo, webinar.id, "Hello from the Leeds team!")
        await live.send_chat(ctx.hub, priya, webinar.id, "Thanks for recording this one.")
        _, first, _ = await live.ask(ctx.hub, jo, webinar.id,
                                     "How do you baseline outcomes before the tender?", False)
        await live.ask(ctx.hub, priya, webinar.id, "Who owns the outcome after go-live?", False)
        await live.upvote(ctx.hub, priya, webinar.id, first)
        host = actor_of(sam if webinar.id == now_one.id else maria)
        await moderation.answer(ctx.hub, host, webinar.id, first)
    await Webinar.objects.filter(id=past.id).update(ends_at=utcnow() - dt.timedelta(minutes=5))
    return "4 webinars"
