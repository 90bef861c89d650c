"""Webinar rules: who may create, see, edit and register; times and time zones; what the API shows.

The live room's rules (chat, questions, polls, mutes) are in `live.py`; both share `Seat`, the
grant a `webinar:ID` join returns.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.clock import utcnow
from collab.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from collab.fields import (
    bool_field,
    choice_field,
    datetime_field,
    int_field,
    string_list,
    text_field,
)
from collab.markdown import render_markdown
from collab.realtime import Actor, Hub
from collab.web import iso, person
from collab.zones import in_zone, zone_named

from .models import Participant, Registration, Webinar
from .plain import plain_text

VISIBILITIES = ("public", "members")
CREATOR_ROLES = ("expert", "moderator", "admin")
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_SPEAKERS = 20
MAX_CAPACITY = 1_000_000
# A workshop may run over several days; longer than two weeks is a typo.
MAX_LENGTH = dt.timedelta(days=14)
DEFAULT_LENGTH = dt.timedelta(hours=1)

_webinars = Webinar.ormar_config.table
_participants = Participant.ormar_config.table


# -- who is in the room ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Seat:
    """The grant of a `webinar:ID` join: the viewer's role there, and whether they are muted.

    role: "host" (created it), "moderator" (site moderators and admins), "member", or None for
    an anonymous reader. Re-read when `hub.access_changed` is called (a mute, a role change).
    """

    webinar_id: int
    role: str | None
    muted: bool = False
    admin: bool = False
    user_id: int | None = None

    @property
    def moderates(self) -> bool:
        return self.role in ("host", "moderator")

    @property
    def hosts(self) -> bool:
        """Host-only actions (answer, polls) are open to the host and to admins."""
        return self.role == "host" or self.admin


def seat_for(webinar_id: int, host_id: int, actor: Actor | User | None, muted: bool) -> Seat:
    if actor is None:
        return Seat(webinar_id, None)
    admin = actor.has_role("admin")
    if actor.id == host_id:
        role = "host"
    elif actor.has_role("moderator", "admin"):
        role = "moderator"
    else:
        role = "member"
    return Seat(webinar_id, role, muted=muted and role == "member", admin=admin,
                user_id=actor.id)


# webinar id -> (expires, visibility, host id): a thousand attendees joining at once ask the
# same question; the answer may be a few seconds old (a visibility change is rare).
_META_TTL = 5.0
_meta: dict[int, tuple[float, str, int]] = {}


def forget(webinar_id: int) -> None:
    _meta.pop(webinar_id, None)
    _premoderation.pop(webinar_id, None)


async def room_seat(webinar_id: int, actor: Actor | None) -> Seat:
    """Authorise a join of `webinar:ID` (and `send`s without a join): one query at most."""
    cached = _meta.get(webinar_id)
    if actor is None and cached is not None and cached[0] > time.monotonic():
        if cached[1] == "members":
            raise Unauthenticated("this webinar is for signed-in members")
        return Seat(webinar_id, None)
    w, p = _webinars, _participants
    query = sa.select(w.c.visibility, w.c.host_id).where(w.c.id == webinar_id)
    if actor is not None:
        muted = (sa.select(p.c.muted).where(p.c.webinar_id == webinar_id, p.c.user_id == actor.id)
                 .scalar_subquery())
        query = query.add_columns(muted.label("muted"))
    async with db.database.connection() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no webinar {webinar_id}")
    if len(_meta) > 10_000:
        _meta.clear()
    _meta[webinar_id] = (time.monotonic() + _META_TTL, row.visibility, row.host_id)
    if row.visibility == "members" and actor is None:
        raise Unauthenticated("this webinar is for signed-in members")
    return seat_for(webinar_id, row.host_id, actor, bool(actor is not None and row.muted))


# webinar id -> (expires, premoderation). The ask gate checks the flag itself, so a stale
# answer only costs a retry.
_premoderation: dict[int, tuple[float, bool]] = {}


async def premoderated(webinar_id: int) -> bool:
    cached = _premoderation.get(webinar_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    async with db.database.connection() as conn:
        value = (await conn.execute(sa.select(_webinars.c.premoderation)
                                    .where(_webinars.c.id == webinar_id))).scalar()
    if len(_premoderation) > 10_000:
        _premoderation.clear()
    _premoderation[webinar_id] = (time.monotonic() + 2.0, bool(value))
    return bool(value)


# -- times ---------------------------------------------------------------------------------------
def zone_field(data: dict[str, Any], name: str = "timezone", default: str = "UTC") -> str:
    """An IANA zone, named as such (`Europe/Madrid`) or by its city (`Madrid`)."""
    value = data.get(name)
    if value is None or value == "":
        return default
    zone = zone_named(value) if isinstance(value, str) else None
    if zone is None:
        raise Invalid(f"{name} must be a time zone such as Europe/Paris, or its city (Paris)",
                      extra={"field": name})
    return zone


def time_field(data: dict[str, Any], name: str, zone: str, *, required: bool) -> dt.datetime | None:
    """A webinar's time: an instant, or a wall-clock time in its zone (from 1970 on)."""
    return datetime_field(data, name, required=required, zone=zone, earliest_year=1970)


def status(webinar: Webinar, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if now < webinar.starts_at:
        return "upcoming"
    return "live" if now < webinar.ends_at else "past"


def has_ended(webinar: Webinar) -> bool:
    return utcnow() >= webinar.ends_at


# -- reading and writing webinars ----------------------------------------------------------------
def speakers_of(webinar: Webinar) -> list[str]:
    try:
        value = json.loads(webinar.speakers or "[]")
    except ValueError:
        return []
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def may_see_link(webinar: Webinar, viewer: Actor | User | None, registered: bool) -> bool:
    """The stream or meeting link is for registered attendees, the host and moderators."""
    if viewer is None:
        return False
    return registered or viewer.id == webinar.host.id or viewer.has_role("moderator", "admin")


def webinar_dict(webinar: Webinar, viewer: Actor | User | None = None,
                 registered: bool = False) -> dict[str, Any]:
    show_link = may_see_link(webinar, viewer, registered)
    return {
        "id": webinar.id, "title": webinar.title, "description": webinar.description,
        "description_html": webinar.description_html,
        "starts_at": iso(webinar.starts_at), "ends_at": iso(webinar.ends_at),
        "timezone": webinar.timezone,
        "local_starts_at": in_zone(webinar.starts_at, webinar.timezone).isoformat(),
        "local_ends_at": in_zone(webinar.ends_at, webinar.timezone).isoformat(),
        "speakers": speakers_of(webinar), "host": person(webinar.host),
        "visibility": webinar.visibility, "capacity": webinar.capacity,
        "registered_count": webinar.registered_count,
        "seats_left": None if webinar.capacity is None
        else max(0, webinar.capacity - webinar.registered_count),
        "link": webinar.link if show_link else None,
        "has_link": bool(webinar.link),
        "premoderation": webinar.premoderation, "slow_mode_seconds": webinar.slow_mode_seconds,
        "status": status(webinar), "registered": registered,
        "created_at": iso(webinar.created_at), "updated_at": iso(webinar.updated_at),
    }


def _link_field(data: dict[str, Any]) -> str:
    link = text_field(data, "link", 500, required=False)
    if link and not (link.startswith(("https://", "http://"))):
        raise Invalid("link must be an http:// or https:// address", extra={"field": "link"})
    if any(c.isspace() or c in "<>\"'" for c in link):
        raise Invalid("link must be a plain web address", extra={"field": "link"})
    return link


def _capacity_field(data: dict[str, Any]) -> int | None:
    if data.get("capacity") in (None, ""):
        return None
    return int_field(data, "capacity", minimum=1, maximum=MAX_CAPACITY)


def validate(data: dict[str, Any], current: Webinar | None = None) -> dict[str, Any]:
    """The fields of a new webinar (or of an edit: absent fields keep `current`'s values)."""
    if not isinstance(data, dict):
        raise Invalid("expected a JSON object")

    def given(name: str) -> bool:
        return current is None or name in data

    out: dict[str, Any] = {}
    if given("title"):
        out["title"] = text_field(data, "title", MAX_TITLE)
    if given("description"):
        out["description"] = text_field(data, "description", MAX_DESCRIPTION, required=False)
        out["description_html"] = render_markdown(out["description"])
        out["description_text"] = plain_text(out["description_html"])
    zone = zone_field(data, default=current.timezone if current else "UTC")
    out["timezone"] = zone
    if current is None or "starts_at" in data or "ends_at" in data or "timezone" in data:
        starts = time_field(data, "starts_at", zone, required=current is None) \
            or (current.starts_at if current else None)
        ends = time_field(data, "ends_at", zone, required=False)
        if ends is None:
            ends = current.ends_at if current is not None and "starts_at" not in data \
                else starts + DEFAULT_LENGTH
        if ends <= starts:
            raise Invalid("ends_at must be after starts_at", extra={"field": "ends_at"})
        if ends - starts > MAX_LENGTH:
            raise Invalid("a webinar lasts at most 14 days", extra={"field": "ends_at"})
        out["starts_at"], out["ends_at"] = starts, ends
    if given("speakers"):
        out["speakers"] = json.dumps(string_list(data, "speakers", max_items=MAX_SPEAKERS,
                                                 max_length=100))
    if given("visibility"):
        out["visibility"] = choice_field(data, "visibility", VISIBILITIES, default="public")
    if given("capacity"):
        out["capacity"] = _capacity_field(data)
    if given("link"):
        out["link"] = _link_field(data)
    if given("premoderation"):
        out["premoderation"] = bool_field(data, "premoderation", False)
    return out


def check_may_create(actor: Actor | User | None) -> None:
    if actor is None:
        raise Unauthenticated("sign in to create webinars")
    if not actor.has_role(*CREATOR_ROLES):
        raise Forbidden("only experts, moderators and admins create webinars")


async def create_webinar(actor: User, data: dict[str, Any]) -> Webinar:
    check_may_create(actor)
    fields = validate(data)
    now = utcnow()
    webinar = await Webinar.objects.create(host=actor, created_at=now, updated_at=now, **fields)
    webinar.host = actor
    return webinar


async def update_webinar(hub: Hub, actor: User, webinar_id: int, data: dict[str, Any]
                         ) -> Webinar:
    webinar = await get_webinar(webinar_id, actor)
    if not (actor.id == webinar.host.id or actor.has_role("moderator", "admin")):
        raise Forbidden("only the host or a moderator may edit this webinar")
    fields = validate(data, webinar)
    if "capacity" in fields and fields["capacity"] is not None \
            and fields["capacity"] < webinar.registered_count:
        raise Conflict(f"{webinar.registered_count} people have registered: the capacity "
                       "cannot be lower", extra={"field": "capacity"})
    fields["updated_at"] = utcnow()
    await Webinar.objects.filter(id=webinar.id).update(**fields)
    forget(webinar.id)
    if fields.get("visibility", webinar.visibility) != webinar.visibility:
        # Made members-only: its anonymous readers, in every process, leave it at once.
        await hub.channel_access_changed(f"webinar:{webinar.id}")
    return await get_webinar(webinar.id, actor)


def check_visible(webinar: Webinar, viewer: Actor | User | None) -> None:
    if webinar.visibility == "members" and viewer is None:
        raise Unauthenticated("this webinar is for signed-in members")


async def get_webinar(webinar_id: int, viewer: Actor | User | None) -> Webinar:
    webinar = await Webinar.objects.select_related("host").get_or_none(id=webinar_id)
    if webinar is None:
        raise NotFound(f"no webinar {webinar_id}")
    check_visible(webinar, viewer)
    return webinar


async def list_webinars(viewer: Actor | User | None, when: str, offset: int, limit: int
                        ) -> tuple[list[Webinar], int]:
    """Upcoming (not yet ended, soonest first) or past (latest first), and how many in all."""
    now = utcnow()
    query = Webinar.objects.select_related("host")
    if viewer is None:
        query = query.filter(visibility="public")
    if when == "past":
        query = query.filter(ends_at__lte=now).order_by(["-starts_at", "-id"])
    else:
        query = query.filter(ends_at__gt=now).order_by(["starts_at", "id"])
    total = await query.count()
    return await query.offset(offset).limit(limit).all(), total


async def is_registered(webinar_id: int, viewer: Actor | User | None) -> bool:
    if viewer is None:
        return False
    return await Registration.objects.filter(webinar_id=webinar_id, user_id=viewer.id).exists()


async def registered_ids(user: Actor | User | None, webinar_ids: list[int]) -> set[int]:
    if user is None or not webinar_ids:
        return set()
    rows = await Registration.objects.filter(user_id=user.id,
                                             webinar_id__in=webinar_ids).all()
    return {r.webinar_id for r in rows}


# -- registration ------------------------------------------------------------------------------
_TAKE_SEAT = (
    sa.update(_webinars)
    .where(_webinars.c.id == sa.bindparam("webinar_id"),
           sa.or_(_webinars.c.capacity.is_(None),
                  _webinars.c.registered_count < _webinars.c.capacity))
    .values(registered_count=_webinars.c.registered_count + 1)
)
_registrations = Registration.ormar_config.table


class _Already(Exception):
    """Rolls back a seat taken by a member who was registered already."""


async def register(user: User, webinar_id: int) -> tuple[Webinar, bool]:
    """Take a seat; returns the webinar and whether this call registered (False: already was).

    The seat is taken by one UPDATE guarded by the capacity, which locks the webinar's row
    (PostgreSQL re-checks the guard after the lock; SQLite writes one at a time), so two
    people racing for the last seat never both get it.
    """
    webinar = await get_webinar(webinar_id, user)
    if has_ended(webinar):
        raise Conflict("this webinar has ended")
    if await is_registered(webinar_id, user):
        return webinar, False
    try:
        async with db.write_transaction():
            conn = db.database.get_transaction_connection()
            taken = await conn.execute(_TAKE_SEAT, {"webinar_id": webinar_id})
            if taken.rowcount == 0:
                raise Conflict("this webinar is full")
            # After the row lock: a second request of the same member waits and sees the first.
            exists = await conn.execute(sa.select(_registrations.c.id).where(
                _registrations.c.webinar_id == webinar_id, _registrations.c.user_id == user.id))
            if exists.first() is not None:
                raise _Already
            await conn.execute(sa.insert(_registrations).values(
                webinar_id=webinar_id, user_id=user.id, created_at=utcnow()))
    except _Already:
        return await get_webinar(webinar_id, user), False
    return await get_webinar(webinar_id, user), True


async def cancel_registration(user: User, webinar_id: int) -> Webinar:
    webinar = await get_webinar(webinar_id, user)
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        gone = await conn.execute(sa.delete(_registrations).where(
            _registrations.c.webinar_id == webinar_id, _registrations.c.user_id == user.id))
        if gone.rowcount == 0:
            raise NotFound("you are not registered for this webinar")
        await conn.execute(sa.update(_webinars).where(_webinars.c.id == webinar_id)
                           .values(registered_count=_webinars.c.registered_count - 1))
    return await get_webinar(webinar.id, user)
