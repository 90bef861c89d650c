"""The short fan-out check: N subscribers on one forum thread, a publisher at a set rate.

    python bench/fanout.py                          # 500 subscribers, 100 posts/s, 10 s
    python bench/fanout.py --subscribers 1000 --rate 50 --targets collab

Prints deliveries per second, latency p50/p99, loss, and the server's memory per idle connection
(the `fanout` and `idle` scenarios of bench/run.py, by default against collab and the reference
ceiling in the same run). bench/run.py has every scenario and option.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # bench/ is not a package; run.py sits beside this file


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--subscribers", type=int, default=500)
    p.add_argument("--rate", type=float, default=100, help="posts per second")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--idle-sockets", type=int, default=2000)
    p.add_argument("--targets", default="reference,collab")
    p.add_argument("--no-pin", action="store_true")
    opts = p.parse_args(argv)
    args = run.parse_args(["fanout", "--subscribers", str(opts.subscribers), "--rate",
                           str(opts.rate), "--seconds", str(opts.seconds), "--sockets",
                           str(opts.idle_sockets), "--targets", opts.targets]
                          + (["--no-pin"] if opts.no_pin else []))
    targets = [t for t in opts.targets.split(",") if t]
    with run.bench_context(args) as ctx:
        run.run_one(ctx, "fanout", targets)
        run.run_one(ctx, "idle", targets)
        fan, idle = ctx.results["fanout"], ctx.results["idle"]
        print(f"\nsummary ({opts.subscribers} subscribers, {opts.rate:g} posts/s, "
              f"{opts.seconds:g} s; idle memory at {opts.idle_sockets:,} sockets)")
        for t in targets:
            f, i = fan.get(t), idle.get(t)
            if not f:
                print(f"  {t:10} fanout failed: {fan.get(t + '_error')}")
                continue
            lat = f["latency"]
            mem = f"{i['kib_per_socket']:.1f} KiB" if i else f"failed ({idle.get(t + '_error')})"
            print(f"  {t:10} {f['deliveries_per_s']:,.0f} deliveries/s, p50 {lat['p50_ms']:.1f} ms,"
                  f" p99 {lat['p99_ms']:.1f} ms, loss {f['loss']}, "
                  f"{f['us_per_delivery']:.1f} µs server CPU/delivery, {mem} per idle socket")
        return ctx.results


if __name__ == "__main__":
    main()
