"""Reading fields of a request or a `send` (JSON data, forms): one rule set for every domain.

Text that no database stores is refused at the edge, as `invalid`: U+0000 (PostgreSQL's text
type cannot hold it; one such post used to fail every other post committed with it) and lone
surrogates (not encodable as UTF-8).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from collab.errors import Invalid, NotFound

MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL (see collab/web/toolkit.py)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_storable(value: str, name: str) -> str:
    if _UNSTORABLE.search(value):
        raise Invalid(f"{name} contains a character that cannot be stored (U+0000 or a lone "
                      "surrogate)", extra={"field": name})
    return value


def text_field(data: dict[str, Any], name: str, maximum: int, *, required: bool = True,
               default: str = "", strip: bool = True) -> str:
    """A string of at most `maximum` characters; required ones must not be blank."""
    value = data.get(name)
    if value is None and not required:
        return default
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string", extra={"field": name})
    if strip:
        value = value.strip()
    if required and not value:
        raise Invalid(f"{name} must not be empty", extra={"field": name})
    if len(value) > maximum:
        raise Invalid(f"{name} must be at most {maximum} characters", extra={"field": name})
    return check_storable(value, name)


def id_field(data: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """A positive integer id below 2^31 (a digit string from a form is accepted)."""
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, str) and 0 < len(value) <= 40 and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Invalid(f"{name} must be a positive integer id", extra={"field": name})
    if value > MAX_ID:
        # Well formed, but beyond every id the database holds: it names nothing.
        raise NotFound(f"no {name.removesuffix('_id')} {value}", extra={"field": name})
    return value


def cursor_field(data: Mapping[str, Any], name: str, *, minimum: int = 1) -> int | None:
    """An id given as a place in a list (`before`, `after`, `revision`), most often a query
    parameter: None when absent or empty, else ASCII digits from `minimum` to 2^31 - 1.

    Anything else is `invalid`, a well-formed number past 2^31 too: unlike an id that names a
    thing (`id_field`, 404), a place beyond every id is a mistake of the client's, and passed
    on it overflowed PostgreSQL's 32-bit id columns (a 500).
    """
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and 0 < len(value) <= 10 and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_ID:
        raise Invalid(f"{name} must be an id: ASCII digits from {minimum} to {MAX_ID}",
                      extra={"field": name})
    return value


def int_field(data: dict[str, Any], name: str, *, minimum: int, maximum: int,
              required: bool = True, default: int | None = None) -> int | None:
    """An integer in [minimum, maximum] (a digit string from a form is accepted)."""
    value = data.get(name)
    if value is None and not required:
        return default
    if isinstance(value, str) and 0 < len(value) <= 18 and value.isascii() \
            and value.lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise Invalid(f"{name} must be a whole number from {minimum} to {maximum}",
                      extra={"field": name})
    return value


def bool_field(data: dict[str, Any], name: str, default: bool | None = None) -> bool:
    """true/false (JSON booleans, or "true"/"false"/"on" from a form)."""
    value = data.get(name, default)
    if isinstance(value, str) and value.lower() in ("true", "false", "on", "1", "0"):
        value = value.lower() in ("true", "on", "1")
    if not isinstance(value, bool):
        raise Invalid(f"{name} must be true or false", extra={"field": name})
    return value


def choice_field(data: dict[str, Any], name: str, choices: tuple[str, ...],
                 default: str | None = None) -> str:
    value = data.get(name, default)
    if value not in choices:
        raise Invalid(f"{name} must be one of {', '.join(choices)}", extra={"field": name})
    return value


def date_field(data: dict[str, Any], name: str, *, required: bool = False) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) between years 1900 and 9999, or None."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Invalid(f"{name} is required", extra={"field": name})
        return None
    # fromisoformat alone also takes week dates (2026-W01-1) and non-ASCII digits.
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise Invalid(f"{name} must be a date as YYYY-MM-DD", extra={"field": name})
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name} must be a date as YYYY-MM-DD", extra={"field": name}) from None
    if day.year < 1900:
        raise Invalid(f"{name} must be after 1900", extra={"field": name})
    return day


def datetime_field(data: dict[str, Any], name: str, *, required: bool = False,
                   zone: str | None = None, earliest_year: int = 1900) -> dt.datetime | None:
    """An ISO 8601 time, returned as naive UTC, as times are stored.

    With an offset (or `Z`) it is that instant. Without one it is refused, unless `zone` is
    given: then it is a wall-clock time in that zone (what a form's datetime-local field sends).
    """
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Invalid(f"{name} is required", extra={"field": name})
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid(f"{name} must be an ISO 8601 time", extra={"field": name})
    check_storable(value, name)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        example = "2026-05-01T14:00 or 2026-05-01T14:00:00Z" if zone else "2026-05-01T14:00:00Z"
        raise Invalid(f"{name} must be an ISO 8601 time, e.g. {example}",
                      extra={"field": name}) from None
    if moment.tzinfo is None and zone is None:
        raise Invalid(f"{name} must carry a time zone offset (e.g. Z or +02:00)",
                      extra={"field": name})
    if not earliest_year <= moment.year <= 9998:
        raise Invalid(f"{name} is out of range", extra={"field": name})
    if moment.tzinfo is None and zone is not None:
        tz = zoneinfo.ZoneInfo(zone)
        local = moment.replace(tzinfo=tz)
        # A wall-clock time skipped by a daylight-saving change does not exist in that zone.
        if local.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != moment:
            raise Invalid(f"{name}: {value} does not exist in {zone} (a clock change skips it)",
                          extra={"field": name})
        moment = local
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def string_list(data: dict[str, Any], name: str, *, max_items: int, max_length: int,
                required: bool = False, fold_case: bool = False) -> list[str]:
    """A list of distinct non-empty strings (order kept, the first spelling of each).

    `fold_case`: strings equal ignoring case are one (user names compare that way: `[ana,
    ANA]` names one member, and assigning them twice broke the card's unique assignee key)."""
    value = data.get(name)
    if value is None:
        if required:
            raise Invalid(f"{name} is required", extra={"field": name})
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise Invalid(f"{name} must be a list of at most {max_items} strings",
                      extra={"field": name})
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > max_length:
            raise Invalid(f"each of {name} must be a string of 1 to {max_length} characters",
                          extra={"field": name})
        item = check_storable(item.strip(), name)
        key = item.lower() if fold_case else item
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
