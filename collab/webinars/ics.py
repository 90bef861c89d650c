"""Calendar files (RFC 5545, written by `icalendar`): one per webinar and a feed of upcoming ones.

Times are written in UTC (`DTSTART:20260501T120000Z`): every calendar shows them in its
owner's zone, and no VTIMEZONE block has to be kept up to date. The UID is stable per webinar
and site, so importing the file again (or refreshing the feed) updates the event in place;
SEQUENCE follows edits.

Every text written goes through `one_line` or `lines` first. icalendar escapes an LF in the
properties it knows, but wrote a bare CR as-is (and X-WR-CALNAME, which it does not know,
unescaped altogether), and refused an LF there with an exception: a title with a CR gave a
parser that splits lines on CR injected `BEGIN:VEVENT`/`UID:` lines. Line breaks of any kind
(everything `str.splitlines` breaks on) and other control characters never reach the file.
"""

from __future__ import annotations

import datetime as dt
import re

from icalendar import Calendar, Event, vText
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collab.accounts.auth import current_user
from collab.clock import utcnow

from . import service
from .models import Webinar

FEED_LIMIT = 200
# What some parser may take for the end of a line: CR LF, CR, LF, and the rest of what
# `str.splitlines` breaks on (VT, FF, FS, GS, RS, NEL, LINE and PARAGRAPH SEPARATOR).
_BREAK = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Every other control character (C0 but TAB, DEL, C1): RFC 5545 TEXT allows none of them.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """`text` for a one-line property (SUMMARY, X-WR-CALNAME, UID): breaks become spaces."""
    return _CONTROL.sub("", _BREAK.sub(" ", text)).replace("\t", " ")


def lines(text: str) -> str:
    """`text` for DESCRIPTION: line breaks of any kind become LF, which icalendar writes as
    the escape `\\n`; other control characters go."""
    return _CONTROL.sub("", _BREAK.sub("\n", text)).replace("\t", " ")


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC)


def _event(webinar: Webinar, base: str, host: str) -> Event:
    page = f"{base}/webinars/{webinar.id}"
    event = Event()
    event.add("uid", one_line(f"webinar-{webinar.id}@{host}"))
    event.add("dtstamp", _utc(utcnow()))
    event.add("dtstart", _utc(webinar.starts_at))
    event.add("dtend", _utc(webinar.ends_at))
    event.add("summary", one_line(webinar.title))
    speakers = service.speakers_of(webinar)
    # The description as text: calendars show DESCRIPTION as it is, so Markdown's ** and
    # [links](…) would reach attendees raw.
    about = webinar.description_text
    parts = [about] if about else []
    if speakers:
        parts.append("Speakers: " + ", ".join(speakers))
    parts.append(f"Details and registration: {page}")
    event.add("description", lines("\n\n".join(parts)))
    event.add("url", one_line(page))
    event.add("location", one_line(page))
    event.add("last-modified", _utc(webinar.updated_at or webinar.created_at))
    # Each edit moves updated_at; whole seconds since creation grow with every edit.
    event.add("sequence", max(0, int((webinar.updated_at - webinar.created_at).total_seconds())))
    event.add("class", "PUBLIC" if webinar.visibility == "public" else "PRIVATE")
    return event


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//collab//webinars//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # Not a property icalendar knows: without vText it was written unescaped.
    cal.add("x-wr-calname", vText(one_line(name)))
    return cal


def _response(cal: Calendar, filename: str) -> Response:
    return Response(cal.to_ical(), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _base(request: Request) -> tuple[str, str]:
    return str(request.base_url).rstrip("/"), request.url.hostname or "collab"


async def webinar_ics(request: Request) -> Response:
    viewer = await current_user(request)
    webinar = await service.get_webinar(request.path_params["id"], viewer)
    base, host = _base(request)
    cal = _calendar(webinar.title)
    cal.add_component(_event(webinar, base, host))
    return _response(cal, f"webinar-{webinar.id}.ics")


async def feed_ics(request: Request) -> Response:
    """Upcoming webinars the viewer may see (public ones for a calendar app without a session)."""
    viewer = await current_user(request)
    found, _ = await service.list_webinars(viewer, "upcoming", 0, FEED_LIMIT)
    base, host = _base(request)
    cal = _calendar("collab webinars")
    for webinar in found:
        cal.add_component(_event(webinar, base, host))
    return _response(cal, "webinars.ics")


routes = [
    Route("/webinars.ics", feed_ics, methods=["GET"]),
    Route("/webinars/{id:id}.ics", webinar_ics, methods=["GET"]),
]
