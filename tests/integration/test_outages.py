"""Operators' faults: Redis idle, stalled or gone, PostgreSQL gone, SIGTERM (issue 7: 1, 7, 8)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import asyncpg
import httpx2
import pytest
from support.api import Api, setup_forum
from support.servers import ServerFactory
from support.services import PostgresCluster, RedisServer
from support.waiting import wait_until
from support.wsclient import WSClient

from collab.client import Client, ClientError
from collab.realtime.bus import Bus

pytestmark = pytest.mark.anyio


async def test_a_bus_that_follows_no_channel_stays_idle(redis_server: RedisServer) -> None:
    """Subscribing and unsubscribing used to leave redis-py's `subscribed` flag set and the
    reader spinning at 100% CPU; now an idle bus costs next to nothing."""
    bus = Bus(redis_server.url, lambda channel, frame: None, lambda: asyncio.sleep(0))
    await bus.start()
    try:
        await bus.subscribe("thread:1")
        await bus.unsubscribe("thread:1")
        cpu = time.process_time()
        await asyncio.sleep(1.5)  # the measurement period, not a synchronisation
        used = time.process_time() - cpu
        assert used < 0.3, f"an idle bus used {used:.2f} s of CPU in 1.5 s"
        assert bus.connected.is_set()
    finally:
        await bus.stop()


def _health(base_url: str) -> str:
    return httpx2.get(f"{base_url}/healthz", timeout=5, trust_env=False).json()["bus"]


def _wait_health(base_url: str, want: str, seconds: float) -> None:
    def check() -> str | None:
        bus = _health(base_url)
        return None if bus == want else f"/healthz says bus={bus}, not {want}, after {seconds} s"

    wait_until(check, timeout=seconds, interval=0.1)


def test_healthz_follows_redis_down_and_up(live_server: ServerFactory,
                                           redis_server: RedisServer) -> None:
    server = live_server(broadcast_url=redis_server.url)
    assert _health(server.base_url) == "up"
    redis_server.stop()
    _wait_health(server.base_url, "down", 10)
    redis_server.start()
    _wait_health(server.base_url, "up", 15)


@pytest.mark.parametrize("redis_up", [True, False])
def test_sigterm_stops_the_server_within_the_grace_period(
        live_server: ServerFactory, redis_server: RedisServer, redis_up: bool) -> None:
    server = live_server(broadcast_url=redis_server.url)
    with Api(server.base_url) as api:
        api.register()
    if not redis_up:
        redis_server.stop()
        _wait_health(server.base_url, "down", 10)
    proc = server._proc
    assert proc is not None
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    assert time.monotonic() - started < 10, "SIGTERM took longer than the grace period"


async def test_acks_do_not_wait_on_a_stalled_redis(live_server: ServerFactory,
                                                   redis_server: RedisServer) -> None:
    server = live_server(broadcast_url=redis_server.url)
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    async with Client(server.ws_url, token=forum.admin.token) as writer:
        await writer.join(forum.channel)
        redis_server.pause()
        try:
            for n in range(5):
                started = time.monotonic()
                await writer.send(forum.channel, "post.create", {"body": f"during {n}"})
                assert time.monotonic() - started < 1.0, "an ack waited on the broker"
        finally:
            redis_server.resume()


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_a_database_outage_answers_unavailable_and_a_keyed_retry_posts_once(
        live_server: ServerFactory, own_postgres: PostgresCluster) -> None:
    server = live_server(database_url=own_postgres.create_database())
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    async with Client(server.ws_url, token=forum.admin.token) as writer:
        await writer.join(forum.channel)
        own_postgres.down()
        try:
            with pytest.raises(ClientError) as refused:
                # Generous: what is checked is the answer, not its speed on a loaded machine.
                await writer.send(forum.channel, "post.create", {"body": "in the outage"},
                                  key="outage-1", timeout=15)
            assert refused.value.code == "unavailable"
            assert refused.value.frame.get("ref"), "the error must name the send it answers"
        finally:
            own_postgres.up()
        ack = await writer.send(forum.channel, "post.create", {"body": "in the outage"},
                                key="outage-1", timeout=30)
        again = await writer.send(forum.channel, "post.create", {"body": "in the outage"},
                                  key="outage-1", timeout=30)
        assert again["seq"] == ack["seq"]
    with Api(server.base_url) as api:
        posts = api.get_thread(forum.thread_id)["posts"]
    assert [p["body"] for p in posts].count("in the outage") == 1


def test_healthz_names_a_database_that_is_down_and_still_answers_at_once(
        live_server: ServerFactory, own_postgres: PostgresCluster) -> None:
    server = live_server(database_url=own_postgres.create_database())

    def health() -> tuple[dict[str, object], float]:
        started = time.monotonic()
        answer = httpx2.get(f"{server.base_url}/healthz", timeout=5, trust_env=False).json()
        return answer, time.monotonic() - started

    assert health()[0]["database"] == "up"
    own_postgres.down()
    try:
        answer, took = health()
        assert answer["database"] in ("down", "slow") and answer["status"] == "ok", answer
        # The database's part is bounded (80 ms); the rest is the round trip on a busy machine.
        assert took < 2.0, took
    finally:
        own_postgres.up()
    deadline = time.monotonic() + 30
    while health()[0]["database"] != "up":
        assert time.monotonic() < deadline, "the database came back but /healthz says not"


async def test_a_database_shutting_down_answers_unavailable_with_the_ref(
        live_server: ServerFactory, own_postgres: PostgresCluster) -> None:
    """While PostgreSQL shuts down (or starts up) it refuses new connections with
    CannotConnectNowError, which SQLAlchemy wraps: a keyed send got `invalid` with no `ref`
    (issue 22, 1), so its sender never learned its fate."""
    server = live_server(database_url=own_postgres.create_database())
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    async with await WSClient.connect(server.ws_url, token=forum.admin.token) as writer:
        await writer.join_ok(forum.channel)
        # A session of the test's own keeps a smart shutdown waiting; meanwhile every new
        # connection is refused with "the database system is shutting down".
        holder = await asyncpg.connect(own_postgres.url())
        try:
            own_postgres.stop_smart()
            # The server's pooled connections end, so its next reads must open new ones.
            await holder.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE pid <> pg_backend_pid() AND backend_type = "
                                 "'client backend'")
            for n in range(4):
                # Keyed sends fail in the store's `recall`, the others in the door's batch.
                keyed = {"key": f"shutdown-{n}"} if n % 2 == 0 else {}
                reply = await writer.request(
                    "send", channel=forum.channel, type="post.create",
                    data={"body": f"while shutting down {n}"}, **keyed)
                assert reply.get("ref", "").startswith("r"), reply
                assert reply["op"] == "error" and reply["code"] == "unavailable", reply
        finally:
            await holder.close()
            own_postgres.wait_stopped()
            own_postgres.up()
