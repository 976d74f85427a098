"""Load: simulated cameras' events, plate reads and faces at a set rate through the bus into
storage and alerts, for a set time — throughput, the consumers' lag, alert latency percentiles,
loss and duplicates.

The mix (bench/load_mix.py), of every 1,000 messages: 10 intrusions that each raise an alert,
5 faces (one in ten a person on a watchlist: a face hit, then a ``face_match`` event, then an
alert), 90 plate reads, 895 motion events. Alert latency is from the event's (or face's)
creation to the alert's ``raised`` change reaching a listener on the bus. At the end — after
the consumers drained, waiting at most ``--drain-s`` — the database is counted: loss is sent
minus stored per kind, duplicates are rows stored twice for one message. Loopback only. The
issue's target: 20,000 events/s sustained for 10 minutes, p99 alert latency ≤ 1 s, zero loss.

``--nodes 0`` (the default) runs publisher and consumers in this one process, as the embedded
deployment does. ``--nodes N`` (NATS only) runs N separate kupol nodes sharing the JetStream
durable consumers, and ``--publishers P`` publisher processes (bench/load_nodes.py).

    .venv/bin/python bench/load.py [--rate 20000] [--seconds 60] [--cameras 200]
        [--database sqlite|postgres] [--bus memory|nats] [--nodes 0] [--publishers 1]
        [--consumer-tasks 1] [--pool-size N] [--drain-s 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from ingest import fresh_database
from kupol.alerts.messages import AlertChanged
from kupol.bootstrap import build_container
from kupol.settings import load_settings
from load_cpu import CpuMeter, backends, named
from load_mix import Mix, prepare, settings_overrides
from load_node import lag_buckets
from load_nodes import loadavg, run_nodes, timeline
from load_publisher import publish_paced
from load_report import AlertClock, Stored, count_stored, print_report


async def run_one(
    args: argparse.Namespace, url: str, workdir: Path
) -> tuple[dict[str, Any], AlertClock, Stored]:
    """Publisher and consumers in this process (the embedded deployment's shape)."""
    stream = f"KL{uuid.uuid4().hex[:8].upper()}" if args.bus == "nats" else None
    overrides = settings_overrides(url, workdir, stream, args.consumer_tasks, args.pool_size)
    container = build_container(load_settings(toml_file=None, environ={}, **overrides))
    mix = Mix(setup=prepare(container, args.cameras))
    clock = AlertClock()

    async def on_alerts(events: Any) -> None:
        clock.observe(events, time.time())

    container.bus.subscribe(AlertChanged, on_alerts, consumer="load-listener", durable=False)
    await container.start(with_sources=False)
    postgres = container.db.dialect == "postgresql"
    meter = CpuMeter()
    meter.start([os.getpid(), *named("nats-server"), *(backends(container.db) if postgres else [])])
    before = loadavg()
    started = time.perf_counter()
    start_at = time.time()
    stored = Stored()
    try:
        paced = await publish_paced(container.bus.publish, mix, args.rate, args.seconds)
        published_s = paced.seconds
        deadline = time.perf_counter() + args.drain_s
        drained = False
        while time.perf_counter() < deadline:
            stored = await asyncio.to_thread(count_stored, container.db)
            if stored.complete(mix.sent):
                drained = True
                break
            await asyncio.sleep(1)
        drained_s = time.perf_counter() - started
        groups = {"this process": [os.getpid()], "nats-server": named("nats-server")}
        if postgres:
            groups["PostgreSQL (this database)"] = backends(container.db)
        meter.stop(groups)
        await asyncio.sleep(0.5)
        after = loadavg()
    finally:
        if args.bus == "nats":
            await container.bus.purge()  # type: ignore[attr-defined]
        await container.stop()
    consumers = container.metrics.summary().consumers
    return (
        {
            "title": f"{args.database} + {args.bus} bus, one process",
            "cameras": args.cameras,
            "rate": args.rate,
            "seconds": args.seconds,
            "loadavg_before": before,
            "loadavg_after": after,
            "sent": dict(mix.sent),
            "published_s": published_s,
            "behind_s": paced.behind_s,
            "drained": drained,
            "drained_s": drained_s,
            "drain_limit_s": args.drain_s,
            "consumers": consumers,
            "lag": lag_buckets(container.metrics),
            "expected_handled": {
                "events.recorder": sum(stored.events.values()),
                "plates-store": mix.sent["plate"],
                "faces-matcher": mix.sent["face"],
            },
            "timeline": [
                meter.line(drained_s, {}),
                *timeline(start_at, paced.per_second, [], clock),
            ],
        },
        clock,
        stored,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bus", choices=("memory", "nats"), default="memory")
    parser.add_argument(
        "--nodes",
        type=int,
        default=0,
        help="separate kupol node processes (NATS only); 0: all in this process",
    )
    parser.add_argument(
        "--publishers", type=int, default=1, help="publisher processes (with --nodes)"
    )
    parser.add_argument(
        "--consumer-tasks",
        type=int,
        default=1,
        help="NATS: batches each durable consumer of a node works on at once "
        "([bus] consumer_tasks)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="each node's PostgreSQL connection pool ([database] pool_size; default: kupol's)",
    )
    parser.add_argument(
        "--drain-s",
        type=float,
        default=120,
        help="longest wait for the consumers to catch up after publishing",
    )
    args = parser.parse_args()
    if args.nodes and args.bus != "nats":
        parser.error("--nodes needs --bus nats (the in-process bus cannot be shared)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, drop = fresh_database(args.database, workdir)
        try:
            if args.nodes:
                report, clock, stored = uvloop.run(run_nodes(args, url, workdir))
            else:
                report, clock, stored = uvloop.run(run_one(args, url, workdir))
        finally:
            drop()
    print_report(report, clock, stored)


if __name__ == "__main__":
    main()
