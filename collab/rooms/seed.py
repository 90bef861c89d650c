"""The forum's part of the demo community (`collab seed`): rooms, threads and replies."""

from __future__ import annotations

from collab.accounts.auth import actor_of
from collab.domain import SeedContext

from . import service
from .models import Room

ROOMS = [
    ("Procurement", "Buying well with public money: frameworks, tenders, contract management.",
     "public", [
         ("Splitting a digital contract into lots: did it help small suppliers?",
          "maria.lopez",
          ("We split our case-management rebuild into **four lots** (discovery, build, hosting, "
          "support). Small suppliers won two of them.\n\nHas anyone measured whether lots "
          "raised the *total* cost of coordination?"),
          [("sam.okafor", ("We saw about 10% more contract-management effort, but the "
                          "competition on price more than paid for it.")),
           ("jo.chen", ("Make sure the lots share one backlog, or you pay for it in "
                       "integration later."))]),
         ("Template: outcome-based statement of requirements",
          "sam.okafor",
          ("Sharing the template we use for outcome-based requirements:\n\n"
          "1. The problem, in users' words\n2. Outcomes and how we will measure them\n"
          "3. Constraints (accessibility, security, data residency)\n\nComments welcome."),
          [("priya.nair", ("Step 2 is where most of ours go wrong. Do you set baselines "
                          "before the tender?"))]),
     ]),
    ("Digital services", "Designing, building and running services people can use.",
     "public", [
         ("Moving a paper form online: what to measure in the first month",
          "jo.chen",
          ("We replaced a 12-page paper form with an online service last week. What should "
          "we watch in the first month besides completion rate?"),
          [("maria.lopez", ("Time to complete, drop-off per page, and calls to the helpline "
                           "about the form. The last one tells you most."))]),
         ("Accessibility audit findings we keep repeating",
          "priya.nair",
          ("Our last three audits flagged the same issues: missing form labels, focus order "
          "in modals, and low contrast in disabled buttons. How do you stop regressions?"),
          []),
     ]),
    ("Emergency response", "Coordination, communication and recovery when things go wrong.",
     "public", [
         ("Flood warning messages: plain language that people act on",
          "sam.okafor",
          ("After the spring floods we tested warning texts with residents. Short, "
          "specific, and naming the street beat everything else. Examples in the thread."),
          [("jo.chen", "Did you test the Welsh and Polish versions with native speakers?")]),
     ]),
    ("Members' lounge", "Off-the-record conversations for signed-in members.", "members", [
        ("Introduce yourself", "maria.lopez",
         "Say hello: your team, your city, and one thing that worked this year.", []),
    ]),
]


async def seed(ctx: SeedContext) -> str | None:
    """Add the demo rooms and threads, unless the database already has rooms."""
    if await Room.objects.exists():
        return None
    users = ctx.users
    admin = users["admin"]
    for name, description, visibility, threads in ROOMS:
        room = await service.create_room(admin, {"name": name, "description": description,
                                                  "visibility": visibility})
        for title, author, body, replies in threads:
            thread = await service.create_thread(ctx.hub, actor_of(users[author]), room.id,
                                                 {"title": title, "body": body})
            for reply_author, reply in replies:
                await service.create_post(ctx.hub, actor_of(users[reply_author]), thread.id,
                                          {"body": reply})
    return f"{len(ROOMS)} forum rooms"
