"""Progress of a project: cards per column, the share done, overdue cards, and a burn-up chart.

Done means in the board's last column. The burn-up reads `card_done_log` (one row each time a
card enters or leaves the done column, or cards are added or removed), summed per day: the
event store is pruned, these rows are kept. The chart is drawn on the server as SVG (no script),
with a table of the same figures for screen readers and for anyone without images.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from . import reads
from .models import Card, DoneLog

_cards = Card.ormar_config.table
_log = DoneLog.ormar_config.table

# The chart shows at most this many days (what came before is summed into the first one).
CHART_DAYS = 90
OVERDUE_LISTED = 50


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


async def progress(board_id: int, on: dt.date | None = None) -> dict[str, Any]:
    """Cards per column, done, share done, overdue cards and the burn-up series."""
    on = on or today()
    columns = await reads.columns_of(board_id)
    last = columns[-1]["id"] if columns else None
    async with reads.connection() as conn:
        counts = dict((await conn.execute(
            sa.select(_cards.c.column_id, sa.func.count()).where(_cards.c.board_id == board_id)
            .group_by(_cards.c.column_id))).all())
        late = (sa.select(_cards.c.id, _cards.c.title, _cards.c.due, _cards.c.column_id)
                .where(_cards.c.board_id == board_id, _cards.c.due < on,
                       _cards.c.column_id != (last or 0)))
        overdue_rows = (await conn.execute(late.order_by(_cards.c.due, _cards.c.id)
                                           .limit(OVERDUE_LISTED))).all()
        overdue = (await conn.execute(sa.select(sa.func.count())
                                      .select_from(late.subquery()))).scalar_one()
        days = (await conn.execute(
            sa.select(sa.func.date(_log.c.at).label("day"), sa.func.sum(_log.c.done_delta),
                      sa.func.sum(_log.c.total_delta))
            .where(_log.c.board_id == board_id).group_by(sa.func.date(_log.c.at))
            .order_by(sa.func.date(_log.c.at)))).all()
    total = sum(counts.values())
    done = counts.get(last, 0) if last is not None else 0
    titles = {c["id"]: c["title"] for c in columns}
    return {
        "columns": [{"id": c["id"], "title": c["title"], "cards": counts.get(c["id"], 0)}
                    for c in columns],
        "total": total,
        "done": done,
        "share_done": round(done / total, 4) if total else 0.0,
        "overdue": int(overdue),
        "overdue_cards": [{"id": r.id, "title": r.title, "due": reads.day(r.due),
                           "column": titles.get(r.column_id, "")} for r in overdue_rows],
        "burnup": burnup([(reads.day(d) or "", int(dd or 0), int(td or 0)) for d, dd, td in days],
                         on),
    }


def burnup(days: list[tuple[str, int, int]], on: dt.date) -> list[dict[str, Any]]:
    """Cumulative done and total per day, from the first logged day (or CHART_DAYS ago) to `on`.

    `days` are (YYYY-MM-DD, done delta, total delta) in date order.
    """
    if not days:
        return [{"date": on.isoformat(), "done": 0, "total": 0}]
    deltas = {day: (d, t) for day, d, t in days}
    first = min(dt.date.fromisoformat(days[0][0]), on)
    start = max(first, on - dt.timedelta(days=CHART_DAYS - 1))
    done = total = 0
    for day, d, t in days:  # everything before the window is summed into its first day
        if dt.date.fromisoformat(day) < start:
            done, total = done + d, total + t
    out = []
    current = start
    while current <= on:
        d, t = deltas.get(current.isoformat(), (0, 0))
        done, total = done + d, total + t
        out.append({"date": current.isoformat(), "done": done, "total": total})
        current += dt.timedelta(days=1)
    return out


def chart(series: list[dict[str, Any]], width: int = 560, height: int = 220) -> dict[str, Any]:
    """Geometry of the burn-up SVG: polylines for done and total, axes and a few labels."""
    left, right, top, bottom = 44, 12, 12, 30
    if len(series) == 1:
        # A burn-up rises from nothing: a project's first day is drawn from a zero the day
        # before, or its one point would draw no line at all.
        day = dt.date.fromisoformat(series[0]["date"]) - dt.timedelta(days=1)
        series = [{"date": day.isoformat(), "done": 0, "total": 0}, *series]
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([p["total"] for p in series] + [p["done"] for p in series] + [1])
    n = len(series)

    def x(i: int) -> float:
        return round(left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(v: int) -> float:
        return round(top + plot_h - plot_h * v / peak, 1)

    def line(key: str) -> str:
        return " ".join(f"{x(i)},{y(p[key])}" for i, p in enumerate(series))

    ticks = sorted({0, peak // 2, peak})
    labels = [0] if n == 1 else sorted({0, n // 2, n - 1})
    last = series[-1]
    return {
        "width": width, "height": height, "left": left, "top": top,
        "right": width - right, "bottom": top + plot_h,
        "done": line("done"), "total": line("total"),
        "done_end": (x(n - 1), y(last["done"])), "total_end": (x(n - 1), y(last["total"])),
        "y_ticks": [{"y": y(v), "label": v} for v in ticks],
        # The end labels are anchored inwards, or the last date was cut off at the edge.
        "x_labels": [{"x": x(i), "label": series[i]["date"][5:],
                      "anchor": "start" if i == 0 else "end" if i == n - 1 else "middle"}
                     for i in labels],
        "first": series[0]["date"], "last": last["date"],
        "done_now": last["done"], "total_now": last["total"],
    }
