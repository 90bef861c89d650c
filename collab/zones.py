"""Time zones: IANA names (or the city a person types), and times as a viewer reads them.

Below everything but the clock: the webinars' schedule, a member's saved zone and the pages'
`local_time` all read zones here. `tzdata` ships every zone, so a machine without system zone
data knows them too.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping

_LEGACY = ("Etc/", "SystemV/", "US/", "posix/", "right/", "Brazil/", "Canada/", "Chile/",
           "Mexico/")


@functools.cache
def every_zone() -> frozenset[str]:
    """Every IANA zone name this machine knows, legacy aliases (`US/Eastern`, `EST`) too."""
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def zones() -> frozenset[str]:
    """The zones people pick from: region/city names and UTC, without the legacy aliases."""
    return frozenset(z for z in every_zone()
                     if "/" in z and not z.startswith(_LEGACY) or z == "UTC")


def _key(text: str) -> str:
    return text.casefold().replace(" ", "_")


@functools.cache
def _by_key() -> Mapping[str, str]:
    """Each zone by its whole name and by its city (`madrid`, `new_york`), case-folded; a city
    two regions share (none today) keeps the first in name order."""
    out: dict[str, str] = {}
    for name in sorted(zones()):
        out.setdefault(_key(name), name)
    for name in sorted(zones()):
        out.setdefault(_key(name.rsplit("/", 1)[-1]), name)
    return out


def zone_named(text: str) -> str | None:
    """The IANA zone `text` names (`Europe/Madrid`, `europe/madrid`, `Madrid`, `new york`)."""
    if not text or len(text) > 64:
        return None
    if text in every_zone():
        return text
    return _by_key().get(_key(text))


@functools.cache
def choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Zones for a picker: by region, each as (IANA name, city as people write it)."""
    regions: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(zones()):
        region, _, city = name.partition("/")
        label = city.replace("_", " ").replace("/", " – ") if city else name
        regions.setdefault(region if city else "Universal", []).append((name, label))
    return sorted(regions.items())


def in_zone(value: dt.datetime, zone: str) -> dt.datetime:
    """A stored (naive UTC) or aware time, in `zone`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zoneinfo.ZoneInfo(zone))


# "relative" reads as "datetime" on the server; times.js shows "3 minutes ago" (exact on hover).
STYLES = ("datetime", "date", "time", "relative")


def shown(value: dt.datetime, zone: str, style: str = "datetime") -> str:
    """`Thu, 11 Dec 2026, 14:00 CET` (or its date or its time), as a person in `zone` reads it;
    the same words the browser's Intl.DateTimeFormat('en-GB') gives (static/times.js)."""
    local = in_zone(value, zone)
    date = f"{local:%a}, {local.day} {local:%b %Y}"
    clock = f"{local:%H:%M} {local.tzname()}"
    return {"date": date, "time": clock}.get(style, f"{date}, {clock}")
