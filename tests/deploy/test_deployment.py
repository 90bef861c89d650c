"""deploy/ run for real: nginx (TLS, WebSockets, static files) over two app hosts of two
`collab serve` processes each, PostgreSQL and Redis on a third machine, all as network
namespaces (issue 22, "A deployment that is tested, not described"); and faults through it under
steady traffic on a forum thread, a board and a webinar, with clients on both hosts.

After each fault: every acknowledged event reached every reader exactly once and in order, card
order and vote counts agree everywhere, and the database holds exactly the acknowledged changes.
The figures (sent / acked / delivered / lost) go to stdout (`-s`) and to deploy-figures.txt in
pytest's base temporary directory.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import httpx2
import pytest

from .cluster import APP, PG, PORTS, REDIS, Deployment
from .conftest import WS_URL, Site
from .products import board, card, check_board, check_forum, check_webinar, forum, post, talk
from .products import webinar as make_webinar
from .traffic import Figures, Reader, Writer, delivery_figures

# One deployment for the module: under xdist (scripts/test's --dist loadgroup) every test here
# goes to the same worker, which builds it once.
pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("deploy")]

BEFORE = 3.0   # seconds of steady traffic before a fault
AFTER = 3.0    # and after it has healed
CATCH_UP = 60.0


def test_nginx_terminates_tls_serves_static_files_and_is_the_only_trusted_proxy(
        site: Site) -> None:
    api, dep = site.api, site.deployment
    page = api.http.get("/login")
    assert page.status_code == 200, page.text[:300]
    # What the app answers, through the proxy it trusts: HTTPS seen from X-Forwarded-Proto.
    assert page.headers.get("strict-transport-security") == "max-age=31536000"
    links = sorted(set(re.findall(r"/static/[\w./-]+\.[0-9a-f]{12}\.(?:css|js)", page.text)))
    assert links, "the page links no fingerprinted static file"
    for url in links:
        r = api.http.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers.get("content-encoding") == "gzip", url
        direct = dep.ns("h1").call(lambda u=url: httpx2.get(
            f"http://{APP['h1']}:{PORTS[0]}{u}", trust_env=False).content)
        assert r.content == direct, f"nginx's {url} is not what the app serves"
    access = (dep.root / "nginx" / "access.log").read_text()
    served = [ln for ln in access.splitlines() if any(f"GET {u} " in ln for u in links)]
    assert served and all(ln.endswith("upstream=-") for ln in served), (
        f"nginx should serve fingerprinted files itself, without the app: {served}")
    # A name nginx does not have is asked of the app (a plain name, revalidated by ETag).
    plain = api.http.get("/static/collab.css")
    assert plain.status_code == 200 and "must-revalidate" in plain.headers["cache-control"]
    # Plain HTTP is sent to HTTPS.
    redirect = dep.ns("edge").call(lambda: httpx2.get("http://127.0.0.1/login", trust_env=False))
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "https://127.0.0.1/login"

    # Anyone else claiming to be a proxy is not believed: straight to a process, from the
    # host itself, X-Forwarded-Proto: https does not make the request HTTPS.
    def spoofed() -> httpx2.Response:
        return httpx2.get(f"http://{APP['h1']}:{PORTS[0]}/login", trust_env=False,
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
    assert "strict-transport-security" not in dep.ns("h1").call(spoofed).headers


async def _phase(site: Site, fault: str, inject: Callable[[Deployment], None],
                 ) -> list[Figures]:
    """Traffic on all three products, `inject` (blocking: it breaks and heals), then checks;
    the figures of each product."""
    api, dep, people = site.api, site.deployment, site.members
    writers_of = {"forum": people[0:2], "board": people[2:4], "webinar": people[4:6]}
    products = [forum(api, site.admin),
                board(api, writers_of["board"][0], writers_of["board"][1:] + people[6:]),
                make_webinar(api, site.admin)]
    acts = {"forum": post, "board": card, "webinar": talk}
    readers = [Reader(WS_URL, user.token, [p.channel for p in products], f"reader{i}", site.ssl)
               for i, user in enumerate(people[6:12])]
    for reader in readers:
        await reader.start()
    shared_questions: dict[int, str] = {}
    columns = [c["id"] for c in products[1].start["board"]["columns"]]
    for product in products:
        for i, user in enumerate(writers_of[product.name]):
            writer = Writer(WS_URL, user.token, product.channel, f"{product.name}{i}",
                            acts[product.name])
            writer.state.update(questions=shared_questions, columns=columns)
            product.writers.append(writer)
            await writer.start()
    try:
        await asyncio.sleep(BEFORE)  # steady traffic before the fault (a period, not a wait)
        spread = {h: dep.sockets_on(h) for h in ("h1", "h2")}
        assert all(spread.values()), f"clients should be on both hosts: {spread}"
        started = time.monotonic()
        await asyncio.to_thread(inject, dep)
        outage = time.monotonic() - started
        await asyncio.sleep(AFTER)  # steady traffic after it healed
    finally:
        await asyncio.gather(*(w.finish() for p in products for w in p.writers))
    try:
        final = {}
        for p in products:
            acked = [int(s.ack["seq"]) for w in p.writers for s in w.acked() if "seq" in s.ack]
            final[p.channel] = max(acked, default=0)
        waits = await asyncio.gather(*(r.wait_for(final, CATCH_UP) for r in readers),
                                     return_exceptions=True)
        stuck = [str(w) for w in waits if w is not None]
        if stuck:
            for p in products:
                acked = sorted(int(s.ack["seq"]) for w in p.writers for s in w.acked()
                               if "seq" in s.ack)
                stuck.append(f"{p.channel}: acknowledged seqs {acked[:8]}…; readers got "
                             f"{[r.seqs(p.channel)[:8] for r in readers]}")
        assert not stuck, "\n".join(stuck)
    finally:
        for reader in readers:
            await reader.stop()

    problems: list[str] = []
    rows: list[Figures] = []
    for p in products:
        fig, found = delivery_figures(fault, p.name, p.channel, p.writers, readers)
        rows.append(fig)
        problems += found
    problems += check_forum(api, products[0])
    problems += check_board(api, products[1], writers_of["board"][0], readers)
    problems += check_webinar(api, products[2], site.admin, readers)
    report = [f"{fault}: outage {outage:.1f} s, clients per host before it {spread}",
              *(r.row() for r in rows)]
    with site.figures.open("a") as out:
        out.write("\n".join(report) + "\n")
    print("\n" + "\n".join(report))
    assert not problems, "\n".join(problems)
    return rows


def _all_healthy(dep: Deployment) -> None:
    for host in ("h1", "h2"):
        for port in PORTS:
            dep.wait_healthy(host, port, timeout=60)


async def test_a_whole_host_goes_down_and_its_sockets_move_to_the_other(site: Site) -> None:
    def host_down(dep: Deployment) -> None:
        dep.kill_host("h1")
        time.sleep(6)  # the host stays down while traffic goes on (a period, not a wait)
        assert dep.sockets_on("h1") == 0
        assert dep.sockets_on("h2") >= 12, "every socket should be on h2 now"
        dep.start_host("h1")  # as systemd brings it back (Restart=always)

    figures = await _phase(site, "host down", host_down)
    assert figures[0].reconnects > 0, "the readers on h1 should have reconnected to h2"


async def test_redis_stopped_for_ten_seconds(site: Site) -> None:
    def redis_down(dep: Deployment) -> None:
        dep.stop_redis()
        time.sleep(10)  # the outage's length
        dep.start_redis()
        _all_healthy(dep)

    await _phase(site, "redis 10 s", redis_down)


async def test_postgresql_restarted(site: Site) -> None:
    def postgres_restart(dep: Deployment) -> None:
        dep.stop_postgres()
        try:
            time.sleep(5)  # the outage's length: sends meanwhile are refused `unavailable`
        finally:
            dep.start_postgres_again()
        _all_healthy(dep)

    await _phase(site, "postgres down 5 s", postgres_restart)


async def test_one_host_cut_off_from_redis(site: Site) -> None:
    def partition(dep: Deployment) -> None:
        dep.partition_from_redis("h1", cut=True)
        try:
            # The cut is what it says: h1 reaches PostgreSQL but not Redis; h2 reaches both.
            assert dep.reachable("h1", REDIS["h1"][0], 6379) is False
            assert dep.reachable("h1", PG["h1"][0], 5432) is True
            assert dep.reachable("h2", REDIS["h2"][0], 6379) is True
            time.sleep(10)  # the partition's length
        finally:
            dep.partition_from_redis("h1", cut=False)
        _all_healthy(dep)

    await _phase(site, "h1 cut from redis", partition)
