"""The metrics exporter and the loop-lag monitor, in one process (the integration tests scrape a
live server): every name the sample dashboard asks for is exported; lag is measured."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from collab import metrics
from collab.app import create_app
from collab.looplag import LoopLag
from collab.migrations import migrate
from collab.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"


def test_every_series_of_the_sample_dashboard_is_exported(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    asyncio.run(migrate(url))
    app = create_app(Settings(database_url=url, secret_key="m" * 40, environment="test"))
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        assert client.get("/healthz").status_code == 200
        text = client.get("/metrics").text
    exported = set(re.findall(r"^([a-z_]+)(?:\{| )", text, re.MULTILINE))
    dashboard = json.loads(DASHBOARD.read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\b((?:collab|process)_[a-z_]+)\b", target["expr"])}
    assert asked, "the dashboard asks for no series"
    assert asked - exported == set(), "the dashboard asks for series /metrics does not export"


def test_counters_are_plain_ints_exported_with_the_process_label() -> None:
    before = metrics.counts.notifications_dropped
    metrics.counts.notifications_dropped += 3
    text = asyncio.run(metrics.render()).decode()
    line = f'collab_notifications_dropped_total{{process="{metrics.PROCESS}"}} {before + 3}.0'
    assert line in text


def test_an_async_gauge_is_read_at_scrape_and_left_out_when_it_fails() -> None:
    async def outbox_size() -> int:
        return 7

    async def broken() -> int:
        raise OSError("the database is away")

    metrics.async_gauge("collab_test_outbox", "a domain's gauge", outbox_size)
    metrics.async_gauge("collab_test_broken", "a failing gauge", broken)
    try:
        text = asyncio.run(metrics.render()).decode()
    finally:
        metrics._async_gauges.pop("collab_test_outbox")
        metrics._async_gauges.pop("collab_test_broken")
    assert f'collab_test_outbox{{process="{metrics.PROCESS}"}} 7.0' in text
    assert "collab_test_broken{" not in text


@pytest.mark.anyio
async def test_the_monitor_measures_a_held_loop_and_records_it(tmp_path: Path) -> None:
    stalls = tmp_path / "stalls"
    lag = LoopLag(str(stalls))
    lag.start()
    try:
        end = time.process_time() + 0.25  # CPU work holding the loop, as a bad input would
        while time.process_time() < end:
            pass
        report = lag.report()  # as /healthz does, right after the stall
    finally:
        await lag.stop()
    assert report["max"] >= 100, report
    _ended, lag_ms, cpu_ms, _pid = stalls.read_text().split()
    assert float(lag_ms) >= 100 and float(cpu_ms) >= 100
