"""What `/metrics` exports, kept where every layer may count into it (it imports no collab module).

Hot paths count into `counts`, plain ints on one object: fan-out adds the sockets it reached
once per event, which costs nothing next to the write itself, where prometheus_client's own
counters take a lock per increment. A collector turns the ints into counters at scrape time.
Anything a layer above knows (open sockets, the database pool, the loop's lag) is a gauge it
registers with `gauge()`; what needs the database (a domain's mail outbox) registers with
`async_gauge()`, read with a short time limit before each scrape.

Another layer's counter, e.g. the notifications a sender's budget refused:
`from collab import metrics; metrics.counts.notifications_dropped += 1`.

Every series carries `process` (`host:pid`): each process keeps its own figures, so with
several processes Prometheus scrapes each and sums over `process`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("collab.metrics")

PROCESS = f"{socket.gethostname()}:{os.getpid()}"
# An async source that has not answered in this time is left out of that scrape (a gauge
# that needs a busy database must not hold up the rest).
ASYNC_SOURCE_SECONDS = 1.0


class Counts:
    """Plain counters, bumped in place (`counts.joins += 1`) on hot paths."""

    __slots__ = ("deliveries", "gap_repairs", "joins", "notifications_dropped",
                 "outbox_closes", "sockets_opened")

    def __init__(self) -> None:
        self.sockets_opened = 0
        self.joins = 0
        self.deliveries = 0
        self.gap_repairs = 0
        self.outbox_closes = 0
        self.notifications_dropped = 0


counts = Counts()

# (name, help, attribute of `counts`): exported as `NAME_total`.
COUNTERS = (
    ("collab_sockets_opened", "WebSocket connections accepted", "sockets_opened"),
    ("collab_joins", "channel joins answered `joined`", "joins"),
    ("collab_deliveries", "event frames handed to sockets by fan-out", "deliveries"),
    ("collab_gap_repairs", "gap repairs from the event store (a bus message late or lost)",
     "gap_repairs"),
    ("collab_outbox_closes", "sockets closed with 4008 because their outbox was full",
     "outbox_closes"),
    ("collab_notifications_dropped", "notifications refused by a sender's hourly budget",
     "notifications_dropped"),
)

GaugeSource = Callable[[], float | int | None]
AsyncGaugeSource = Callable[[], Awaitable[float | int | None]]
_gauges: dict[str, tuple[str, str, GaugeSource]] = {}
_async_gauges: dict[str, tuple[str, AsyncGaugeSource]] = {}
_async_values: dict[str, float] = {}


def gauge(name: str, help: str, source: GaugeSource, kind: str = "gauge") -> None:
    """Export `source()` as `name` at every scrape (kind `counter` for a count kept elsewhere,
    such as the bus's own). Registering a name again replaces its source; None omits it."""
    _gauges[name] = (help, kind, source)


def async_gauge(name: str, help: str, source: AsyncGaugeSource) -> None:
    """Export `await source()` as `name` (e.g. a mail outbox's size, read from the database)."""
    _async_gauges[name] = (help, source)


class _Collector(Collector):
    def collect(self) -> Iterator[Metric]:
        for name, help, attribute in COUNTERS:
            family = CounterMetricFamily(name, help, labels=["process"])
            family.add_metric([PROCESS], getattr(counts, attribute))
            yield family
        for name, (help, kind, source) in list(_gauges.items()):
            try:
                value = source()
            except Exception as exc:  # a scrape must not fail for one figure
                log.warning("metric %s could not be read: %r", name, exc)
                continue
            if value is None:
                continue
            cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = cls(name, help, labels=["process"])
            family.add_metric([PROCESS], float(value))
            yield family
        for name, (help, _) in list(_async_gauges.items()):
            if name in _async_values:
                family = GaugeMetricFamily(name, help, labels=["process"])
                family.add_metric([PROCESS], _async_values[name])
                yield family


registry = CollectorRegistry(auto_describe=False)
ProcessCollector(registry=registry)
PlatformCollector(registry=registry)
GCCollector(registry=registry)
registry.register(_Collector())

# Seconds: from 1 ms (a cached page) to 10 s (a request stuck behind the database).
REQUEST_SECONDS = Histogram(
    "collab_http_request_duration_seconds", "HTTP request time by route template",
    ["route", "method", "status", "process"], registry=registry,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method, str(status), PROCESS).observe(seconds)


async def render() -> bytes:
    """The Prometheus text exposition of this process's metrics."""
    for name, (_, source) in list(_async_gauges.items()):
        try:
            async with asyncio.timeout(ASYNC_SOURCE_SECONDS):
                value = await source()
        except Exception as exc:
            log.warning("metric %s could not be read: %r", name, exc)
            _async_values.pop(name, None)
            continue
        if value is None:
            _async_values.pop(name, None)
        else:
            _async_values[name] = float(value)
    return generate_latest(registry)
