"""`GET /metrics` (PROTOCOL.md, Operations): Prometheus text from METRICS_ALLOW only, with
figures that move as real sockets open, join and receive events."""

from __future__ import annotations

import os

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.api import Api, assert_error_shape, setup_forum
from support.servers import LiveServer, ServerFactory
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: LiveServer) -> Samples:
    r = httpx2.get(f"{server.base_url}/metrics", timeout=10, trust_env=False)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels`."""
    found = [v for (n, ls), v in samples.items()
             if n == name and set(labels.items()) <= set(ls)]
    assert found, f"no {name} {labels} in {sorted({n for n, _ in samples})}"
    return sum(found)


async def test_metrics_move_as_sockets_open_join_and_receive(live_server: ServerFactory) -> None:
    server = live_server()
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        before = scrape(server)
        api.get_thread(forum.thread_id)
        # A 404 is timed under the same template.
        assert api.http.get(f"/api/threads/{forum.thread_id + 1000}").status_code == 404
    process = next(dict(ls)["process"] for (n, ls) in before if n == "collab_joins_total")
    assert process.endswith(f":{_pid(server)}")
    assert value(before, "collab_sockets_open") == 0

    readers = [await WSClient.connect(server.ws_url, name=f"reader{i}") for i in range(3)]
    writer = await WSClient.connect(server.ws_url, token=forum.admin.token, name="writer")
    try:
        for client in [*readers, writer]:
            await client.join_ok(forum.channel)
        open_now = scrape(server)
        assert value(open_now, "collab_sockets_open") == 4
        assert value(open_now, "collab_sockets_opened_total") \
            - value(before, "collab_sockets_opened_total") == 4
        assert value(open_now, "collab_joins_total") - value(before, "collab_joins_total") == 4
        assert value(open_now, "collab_channels_followed") == 1

        for i in range(5):
            await writer.post(forum.channel, f"counted {i}")
        for reader in readers:
            await reader.events(forum.channel, 5)
        await writer.events(forum.channel, 5)
        after = scrape(server)
        # 5 events to 4 sockets each.
        assert value(after, "collab_deliveries_total") \
            - value(before, "collab_deliveries_total") == 20
    finally:
        for client in [*readers, writer]:
            await client.close()

    template = "/api/threads/{id:id}"
    assert value(after, "collab_http_request_duration_seconds_count", route=template,
                 method="GET", status="200") >= 1
    assert value(after, "collab_http_request_duration_seconds_count", route=template,
                 method="GET", status="404") >= 1
    assert not any(dict(ls).get("route", "").startswith("/api/threads/1") for _, ls in after), \
        "a raw path became a label"
    assert value(after, "collab_db_pool_size") >= 1
    assert value(after, "collab_db_pool_checked_out") >= 0
    assert 0 <= value(after, "collab_loop_lag_seconds") < 1
    for name in ("collab_bus_dropped_total", "collab_gap_repairs_total",
                 "collab_outbox_closes_total", "collab_notifications_dropped_total",
                 "collab_loop_stalls_total", "process_resident_memory_bytes"):
        value(after, name)  # present


def test_metrics_are_refused_outside_metrics_allow(live_server: ServerFactory) -> None:
    server = live_server(env={"METRICS_ALLOW": "10.0.0.0/8, 192.0.2.7"})
    r = httpx2.get(f"{server.base_url}/metrics", timeout=10, trust_env=False)
    assert r.status_code == 403
    error = assert_error_shape(r)
    assert error["code"] == "forbidden" and "METRICS_ALLOW" in error["message"]


def test_a_bad_metrics_allow_stops_the_server_with_its_name(live_server: ServerFactory) -> None:
    with pytest.raises(RuntimeError, match="METRICS_ALLOW: 'localhost' is not an IP address"):
        live_server(env={"METRICS_ALLOW": "localhost"})


def _pid(server: LiveServer) -> int:
    pid = server.pid
    assert os.path.exists(f"/proc/{pid}")
    return pid
