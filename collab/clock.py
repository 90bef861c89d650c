"""The one clock: what every module asks for the current time (below everything else).

Stored times are naive UTC (the columns are `DateTime` without a zone on both databases).
"""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Now, as stored: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
