"""Progress figures: the burn-up series and its chart, and @mentions (pure functions)."""

from __future__ import annotations

import datetime as dt
import re

from collab.boards import progress
from collab.notifications import mentioned
from collab.web import render_fragment

DAY = dt.date(2026, 5, 20)


def test_burnup_sums_the_log_per_day_and_fills_days_without_changes() -> None:
    days = [("2026-05-17", 0, 3), ("2026-05-18", 1, 1), ("2026-05-20", 2, -1)]
    series = progress.burnup(days, DAY)
    assert series == [
        {"date": "2026-05-17", "done": 0, "total": 3},
        {"date": "2026-05-18", "done": 1, "total": 4},
        {"date": "2026-05-19", "done": 1, "total": 4},
        {"date": "2026-05-20", "done": 3, "total": 3},
    ]


def test_burnup_keeps_ninety_days_and_sums_what_came_before() -> None:
    days = [("2026-01-01", 5, 10), ("2026-05-19", 1, 0)]
    series = progress.burnup(days, DAY)
    assert len(series) == progress.CHART_DAYS
    assert series[0] == {"date": (DAY - dt.timedelta(days=89)).isoformat(), "done": 5,
                         "total": 10}
    assert series[-1] == {"date": "2026-05-20", "done": 6, "total": 10}


def test_an_empty_project_has_one_point_today() -> None:
    assert progress.burnup([], DAY) == [{"date": "2026-05-20", "done": 0, "total": 0}]


def test_the_burnup_chart_is_an_accessible_svg_of_the_series() -> None:
    series = progress.burnup([("2026-05-18", 0, 4), ("2026-05-19", 2, 0)], DAY)
    chart = progress.chart(series)
    html = render_fragment("boards/_burnup.html", chart=chart)
    assert '<svg viewBox="0 0 560 220"' in html and 'role="img"' in html
    assert "<title id=\"burnup-title\">" in html
    assert "2 of 4 cards done" in html
    points = re.findall(r'<polyline points="([^"]+)"', html)
    assert len(points) == 2 and all(len(p.split()) == 3 for p in points)
    # Higher counts are drawn higher (smaller y): done rose from 0 to 2.
    done = [float(xy.split(",")[1]) for xy in points[1].split()]
    assert done[0] > done[-1]


def test_a_first_day_is_drawn_as_a_rise_from_zero() -> None:
    html = render_fragment("boards/_burnup.html",
                           chart=progress.chart(progress.burnup([("2026-05-20", 1, 5)], DAY)))
    points = re.findall(r'<polyline points="([^"]+)"', html)
    assert [len(p.split()) for p in points] == [2, 2]
    total = [float(xy.split(",")[1]) for xy in points[0].split()]
    assert total[0] > total[1], "all cards rise from 0 to 5"
    assert re.search(r'text-anchor="start"[^>]*>05-19<', html)
    assert re.search(r'text-anchor="end"[^>]*>05-20<', html), "the last date ends at the edge"


def test_mentions_are_member_names_after_an_at_sign() -> None:
    text = "Thanks @jo.chen. Ask @Priya_Nair, not me@example.org or @@x or @ab."
    found = mentioned(text)
    assert {"jo.chen", "priya_nair"} <= found
    assert "example.org" not in found and "x" not in found and "ab" not in found
