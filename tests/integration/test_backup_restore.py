"""The restore drill (PROTOCOL.md, Operations), on SQLite and PostgreSQL: `collab backup` under
traffic, `collab restore` into a new database, `collab reset-epochs`, and the server restarted
on it: open clients and pages reload (`reset`) instead of resuming into another history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from support.api import Api, create_admin, setup_forum
from support.servers import ServerFactory, run_cli
from support.wsclient import WSClient
from websockets.asyncio.client import connect

from collab.client import Client

pytestmark = pytest.mark.anyio


def _new_database(database_url: str, request: pytest.FixtureRequest,
                  live_server: ServerFactory) -> str:
    if database_url.startswith("sqlite"):
        return live_server.new_sqlite_url()
    return str(request.getfixturevalue("postgres_cluster").create_database())


async def test_backup_under_traffic_restores_and_open_clients_reload(
        database_url: str, live_server: ServerFactory, request: pytest.FixtureRequest,
        tmp_path: Path) -> None:
    server = live_server(database_url=database_url)
    admin = create_admin(server)
    with Api(server.base_url) as api:
        forum = setup_forum(api, admin)
        reader = api.register()
    channel = forum.channel
    resets: list[tuple[str, int]] = []
    client = await Client(server.ws_url, token=reader.token, min_delay=0.05, max_delay=0.5,
                          on_reset=lambda ch, seq: resets.append((ch, seq))).connect()
    writer = await WSClient.connect(server.ws_url, token=admin.token, name="writer")
    backup = tmp_path / "collab.backup"
    try:
        joined = await client.join(channel)
        old_epoch = joined["epoch"]
        await writer.join_ok(channel)
        acked: list[tuple[int, str]] = []
        stop = anyio.Event()

        async def write() -> None:
            n = 0
            while not stop.is_set():
                body = f"post {n}"
                acked.append((await writer.post(channel, body), body))
                n += 1

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(write)
            while len(acked) < 15:
                await anyio.sleep(0.02)  # polling interval while the writer runs
            before_backup = len(acked)
            out = await anyio.to_thread.run_sync(server.cli, "backup", str(backup))
            after_backup = len(acked)
            target = len(acked) + 10
            while len(acked) < target:
                await anyio.sleep(0.02)
            stop.set()
        assert "wrote" in out and backup.stat().st_size > 0, out
        assert after_backup > before_backup or before_backup >= 15
        head = acked[-1][0]
        # The reader saw everything up to the head of the live database.
        seen = [frame async for frame in _events(client, len(acked))]
        assert [f["seq"] for f in seen] == [seq for seq, _ in acked]

        # Disaster: the database is lost; the operator restores the backup into a new one.
        server.stop()
        restored_url = _new_database(database_url, request, live_server)
        env = {**server.env, "DATABASE_URL": restored_url}
        assert "reset-epochs" in run_cli(env, "restore", str(backup))
        with pytest.raises(RuntimeError, match="refusing to restore into .*not empty"):
            run_cli(env, "restore", str(backup))
        assert "now has epoch" in run_cli(env, "reset-epochs")
        server.env["DATABASE_URL"] = restored_url
        server.start()  # the same address: clients reconnect by themselves

        bodies = _restored_bodies(server.base_url, forum.thread_id)
        # One moment of the database: a prefix of what was acknowledged, with no hole, holding
        # at least what was acknowledged before the backup began.
        assert bodies == [body for _, body in acked[:len(bodies)]]
        assert before_backup <= len(bodies) <= after_backup + 1, (before_backup, len(bodies))
        restored_head = acked[len(bodies) - 1][0]
        assert restored_head < head

        # The open client reconnected and rejoined with since=head and the old epoch: `reset`.
        reset = await _next_reset(client)
        assert reset["seq"] == restored_head and reset["data"]["epoch"] != old_epoch, reset
        assert resets == [(channel, restored_head)]
        # A page that rendered before the disaster (its since and epoch) reloads too, even
        # one whose since is below the restored head (those seqs now name the same events,
        # but later ones will not).
        page = await _page_reset(server.base_url, channel, restored_head - 1, old_epoch)
        assert f'data-reset="{restored_head}"' in page and old_epoch not in page, page
        # New writes continue the restored history, and the client follows them.
        writer2 = await WSClient.connect(server.ws_url, token=admin.token, name="writer again")
        try:
            assert await writer2.post(channel, "after the restore") == restored_head + 1
        finally:
            await writer2.close()
        event = await _next_event(client)
        assert event["seq"] == restored_head + 1 and "after the restore" in event["data"]["body_html"]
    finally:
        await writer.close()
        await client.close()


def _restored_bodies(base_url: str, thread_id: int) -> list[str]:
    """Every post of the thread, page by page (a page holds at most 500)."""
    bodies: list[str] = []
    after = 0
    with Api(base_url) as api:
        while True:
            r = api.http.get(f"/api/threads/{thread_id}", params={"after": after, "limit": 500})
            assert r.status_code == 200, r.text
            posts = r.json()["posts"]
            if not posts:
                return [body for body in bodies if body.startswith("post ")]
            bodies += [post["body"] for post in posts]
            after = posts[-1]["seq"]


async def _events(client: Client, n: int) -> Any:
    count = 0
    with anyio.fail_after(30):
        async for frame in client.events():
            if frame.get("op") == "event" and frame.get("type") == "post.created":
                yield frame
                count += 1
                if count == n:
                    return


async def _next_reset(client: Client) -> dict[str, Any]:
    with anyio.fail_after(30):
        async for frame in client.events():
            if frame.get("type") == "reset":
                return frame
    raise AssertionError("no reset")


async def _next_event(client: Client) -> dict[str, Any]:
    with anyio.fail_after(30):
        async for frame in client.events():
            if frame.get("type") == "post.created":
                return frame
    raise AssertionError("no event")


async def _page_reset(base_url: str, channel: str, since: int, epoch: str) -> str:
    url = (base_url.replace("http://", "ws://")
           + f"/ws/html?channel={channel}&since={since}&epoch={epoch}")
    async with connect(url, proxy=None, open_timeout=10) as ws:
        with anyio.fail_after(10):
            while True:
                text = str(await ws.recv())
                if "data-reset" in text:
                    return text

