"""How times are written, once for the API and once for pages."""

from __future__ import annotations

import datetime as dt


def iso(value: dt.datetime | None) -> str | None:
    """A stored (naive UTC) or aware datetime as ISO 8601 with `Z`, as the API writes times."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def when(value: dt.datetime | str | None) -> str:
    """A time as pages show it: `2026-12-01 14:05 UTC`."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")
