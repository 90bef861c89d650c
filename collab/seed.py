"""A small, realistic demo community for a fresh installation (`collab seed`)."""

from __future__ import annotations

from collab.accounts.auth import actor_of
from collab.accounts.models import User
from collab.accounts.service import create_user
from collab.realtime import Hub
from collab.rooms import service as rooms
from collab.rooms.models import Room
from collab.settings import Settings

DEMO_PASSWORD = "collab-demo"

USERS = [
    ("admin", "Site Admin", "admin"),
    ("maria.lopez", "María López", "moderator"),
    ("sam.okafor", "Sam Okafor", "expert"),
    ("jo.chen", "Jo Chen", "member"),
    ("priya.nair", "Priya Nair", "member"),
]

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


async def seed(settings: Settings) -> str:
    """Add the demo users, rooms and threads, unless the database already has rooms."""
    if await Room.objects.exists():
        return "the database already has rooms; nothing seeded"
    # Seeding runs outside the server: events go to the store; no socket is listening yet.
    hub = Hub(settings.with_(broadcast_url="memory://"))
    users: dict[str, User] = {}
    for username, display, role in USERS:
        existing = await User.objects.get_or_none(username=username)
        users[username] = existing or await create_user(username, DEMO_PASSWORD, display, role)
    admin = users["admin"]
    for name, description, visibility, threads in ROOMS:
        room = await rooms.create_room(admin, {"name": name, "description": description,
                                               "visibility": visibility})
        for title, author, body, replies in threads:
            thread = await rooms.create_thread(hub, actor_of(users[author]), room.id,
                                               {"title": title, "body": body})
            for reply_author, reply in replies:
                await rooms.create_post(hub, actor_of(users[reply_author]), thread.id,
                                        {"body": reply})
    names = ", ".join(u for u, _, _ in USERS)
    return (f"seeded {len(ROOMS)} rooms and {len(USERS)} demo users ({names}); "
            f"their password is {DEMO_PASSWORD!r} — for local demos only")
