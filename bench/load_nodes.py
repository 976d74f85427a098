"""The multi-process load run: N kupol nodes (bench/load_node.py, each a whole container) share
the JetStream durable consumers, so they split the stream; P publishers (bench/load_publisher.py)
send the mix from other processes. This process prepares the database, listens to alerts on the
bus (latency), samples the consumers' pending counts every second (lag), waits — at most
``drain_s`` — for everything to be stored, and counts the database (loss and duplicates).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats

from kupol.alerts.messages import AlertChanged
from kupol.bootstrap import build_container
from kupol.core.bus.nats import unpack
from kupol.core.db import Database
from kupol.settings import load_settings
from load_cpu import CpuMeter, backends, background, background_line, named
from load_mix import prepare, settings_overrides
from load_report import AlertClock, Stored, count_stored, merge_buckets, percentile

HERE = Path(__file__).parent
CONSUMERS = {
    "recorder": "events_recorder-CameraEventObserved",
    "plates": "plates-store-PlateObserved",
    "faces": "faces-matcher-FaceObserved",
}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def wait_for(
    what: str, done: Callable[[], bool], limit_s: float, procs: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + limit_s
    while not done():
        if any(p.poll() not in (None, 0) for p in procs):
            raise SystemExit(f"a process died while waiting for {what}; see its log")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def log_summary(logs: Path) -> None:
    """What the processes logged at WARNING or above: the logs go with the temporary folder."""
    for path in sorted(logs.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        bad = [line for line in lines if "WARNING" in line or "ERROR" in line or "Error" in line]
        if bad:
            print(f"  {path.stem}: {len(bad)} warning/error lines, e.g. {bad[0][:200]!r}")
            print("    last lines:", *(f"    {line[:200]}" for line in lines[-5:]), sep="\n")


async def run_nodes(
    args: Any, url: str, workdir: Path
) -> tuple[dict[str, Any], AlertClock, Stored]:
    stream = f"KL{uuid.uuid4().hex[:8].upper()}"
    overrides = settings_overrides(url, workdir, stream, args.consumer_tasks, args.pool_size)
    settings_file = workdir / "settings.json"
    settings_file.write_text(json.dumps(overrides))
    container = build_container(load_settings(toml_file=None, environ={}, **overrides))
    setup = prepare(container, args.cameras)
    container.db.dispose()
    setup_file = workdir / "setup.json"
    setup_file.write_text(json.dumps(setup.as_json()))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    logs = workdir / "logs"
    logs.mkdir()

    def spawn(script: str, name: str, *argv: object) -> subprocess.Popen[bytes]:
        log = (logs / f"{name}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, str(HERE / script), *map(str, argv)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    nodes = [
        spawn(
            "load_node.py",
            f"node{n}",
            settings_file,
            workdir / f"ready{n}",
            workdir / f"node{n}.json",
        )
        for n in range(args.nodes)
    ]
    clock = AlertClock()
    samples: list[tuple[float, dict[str, int]]] = []
    nc = await nats.connect(overrides["bus"]["nats_url"])
    try:
        await wait_for(
            "the nodes to start",
            lambda: all((workdir / f"ready{n}").exists() for n in range(args.nodes)),
            120,
            nodes,
        )
        js = nc.jetstream()

        async def on_alert(msg: Any) -> None:
            clock.observe(unpack(AlertChanged, msg), time.time())

        await nc.subscribe(f"{stream.lower()}.event.{AlertChanged.type_name()}", cb=on_alert)

        async def sample() -> None:
            while True:
                pending = {}
                for short, durable in CONSUMERS.items():
                    try:
                        info = await js.consumer_info(stream, durable)
                        pending[short] = info.num_pending + info.num_ack_pending
                    except Exception:
                        pending[short] = -1
                samples.append((time.time(), pending))
                await asyncio.to_thread(meter.sample)  # the processes that come and go
                await asyncio.sleep(1)

        meter = CpuMeter()
        sampler = asyncio.create_task(sample())
        db = Database.from_url(url)
        postgres = db.dialect == "postgresql"  # SQLite has no server processes to count
        meter.start([n.pid for n in nodes] + named("nats-server"))
        if postgres:
            meter.watch("PostgreSQL (all its processes)", lambda: named("postgres"))
            meter.watch("of which this database's backends", lambda: backends(db), part=True)
            background_before = background(db)
        before = loadavg()
        start_at = time.time() + 2
        per = args.rate / args.publishers
        publishers = [
            spawn(
                "load_publisher.py",
                f"publisher{p}",
                settings_file,
                setup_file,
                workdir / f"publisher{p}.json",
                p,
                per,
                args.seconds,
                start_at,
            )
            for p in range(args.publishers)
        ]
        await wait_for(
            "the publishers",
            lambda: all(p.poll() is not None for p in publishers),
            args.seconds + 600,
            publishers,
        )
        sent: dict[str, int] = {}
        behind = published_s = publishers_cpu = 0.0
        per_second: list[int] = []
        for p in range(args.publishers):
            result = json.loads((workdir / f"publisher{p}.json").read_text())
            for kind, n in result["sent"].items():
                sent[kind] = sent.get(kind, 0) + n
            behind = max(behind, result["behind_s"])
            published_s = max(published_s, result["seconds"])
            publishers_cpu += result["cpu_s"]
            per_second.extend([0] * (len(result["per_second"]) - len(per_second)))
            for s, n in enumerate(result["per_second"]):
                per_second[s] += n
        deadline = time.time() + args.drain_s
        stored = Stored()
        drained = False
        while time.time() < deadline:
            if samples and all(v == 0 for v in samples[-1][1].values()):
                stored = await asyncio.to_thread(count_stored, db)
                if stored.complete(sent):
                    drained = True
                    break
            await asyncio.sleep(1)
        drained_s = time.time() - start_at
        groups = {"nodes": [n.pid for n in nodes], "nats-server": named("nats-server")}
        meter.stop(groups)
        background_after = background(db) if postgres else {}
        if not drained:
            stored = await asyncio.to_thread(count_stored, db)
        await asyncio.sleep(1)  # the last alerts' notices
        sampler.cancel()
        after = loadavg()
        db.dispose()
    finally:
        for node in nodes:
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                node.wait(60)
            except subprocess.TimeoutExpired:
                node.kill()
        try:
            await nc.jetstream().delete_stream(stream)
            with contextlib.suppress(Exception):  # made by the nodes, empty unless a dead letter
                await nc.jetstream().delete_stream(f"{stream}_DEAD")
        finally:
            await nc.close()
        log_summary(logs)
    consumers: dict[str, dict[str, float]] = {}
    lag: dict[str, list[list[float]]] = {}
    opened: list[float] = []
    node_batches: list[list[Any]] = []
    for n in range(args.nodes):
        result = json.loads((workdir / f"node{n}.json").read_text())
        opened.append(result.get("db_connections_opened", 0.0))
        node_batches.append(result.get("batches", []))
        for name, c in result["consumers"].items():
            mine = consumers.setdefault(name, {"handled": 0, "failed": 0, "mean_ms": 0.0})
            mine["handled"] += c["handled"]
            mine["failed"] += c["failed"]
            mine["mean_ms"] = max(mine["mean_ms"], c["mean_ms"])  # the slowest node's
        for name, buckets in result["lag"].items():
            lag.setdefault(name, []).append(buckets)
    return (
        {
            "title": f"{args.database} + NATS JetStream, {args.nodes} node(s) "
            f"({args.consumer_tasks} task(s) a consumer), {args.publishers} publisher process(es)",
            "cameras": args.cameras,
            "rate": args.rate,
            "seconds": args.seconds,
            "loadavg_before": before,
            "loadavg_after": after,
            "sent": sent,
            "published_s": published_s,
            "behind_s": behind,
            "drained": drained,
            "drained_s": drained_s,
            "drain_limit_s": args.drain_s,
            "consumers": consumers,
            "lag": {k: merge_buckets(v) for k, v in lag.items()},
            "db_connections_opened": opened,
            "expected_handled": {
                "events.recorder": sum(stored.events.values()),
                "plates-store": sent.get("plate", 0),
                "faces-matcher": sent.get("face", 0),
            },
            "timeline": [
                meter.line(drained_s, {"publishers": publishers_cpu}),
                *([background_line(background_before, background_after)] if postgres else []),
                *timeline(
                    start_at,
                    per_second,
                    samples,
                    clock,
                    batch_ms(node_batches, start_at),
                    meter.cores(start_at),
                ),
            ],
        },
        clock,
        stored,
    )


METRIC_NAMES = {"recorder": "events.recorder", "plates": "plates-store", "faces": "faces-matcher"}


def batch_ms(
    node_batches: list[list[Any]], start_at: float, every_s: int = 10
) -> dict[int, dict[str, float]]:
    """Per ``every_s`` window (its start, s after ``start_at``), per consumer, the mean time of
    the batches the nodes finished in it (ms), from each node's running totals."""
    spent: dict[int, dict[str, list[float]]] = {}
    for samples in node_batches:
        for (_, before), (at, now) in itertools.pairwise(samples):
            window = int((at - start_at) // every_s) * every_s
            for short, name in METRIC_NAMES.items():
                n0, s0 = before.get(name, (0.0, 0.0))
                n1, s1 = now.get(name, (0.0, 0.0))
                sums = spent.setdefault(window, {}).setdefault(short, [0.0, 0.0])
                sums[0] += n1 - n0
                sums[1] += s1 - s0
    return {
        window: {short: 1000 * s / n for short, (n, s) in per.items() if n}
        for window, per in spent.items()
    }


def timeline(
    start_at: float,
    per_second: list[int],
    samples: list[tuple[float, dict[str, int]]],
    clock: AlertClock,
    batches: dict[int, dict[str, float]] | None = None,
    cores: dict[int, dict[str, float]] | None = None,
    every_s: int = 10,
) -> list[str]:
    """Every ``every_s`` seconds: sent/s, the most messages pending per consumer (a message is a
    pack of up to 500 events), the consumers' mean batch time (ms), the cores the machine and
    PostgreSQL were busy on, and the intrusion alerts seen with their p99 latency."""
    from load_mix import INTRUSION_RULE

    latencies = list(
        zip(clock.at.get(INTRUSION_RULE, []), clock.latency.get(INTRUSION_RULE, []), strict=True)
    )
    end = max([s[0] - start_at for s in samples] + [len(per_second) - 1])
    lines = [
        "  timeline (s: sent/s | most pending JetStream messages recorder/plates/faces | "
        "ms a batch recorder/plates/faces | cores busy: machine, PostgreSQL | alerts seen, p99 "
        "latency):"
    ]
    for t0 in range(0, int(end) + 1, every_s):
        window = per_second[t0 : t0 + every_s]
        rate = sum(window) / len(window) if window else 0
        pend = [p for t, p in samples if t0 <= t - start_at < t0 + every_s]
        most = {k: max((p.get(k, 0) for p in pend), default=0) for k in CONSUMERS}
        lat = [v for t, v in latencies if t0 <= t - start_at < t0 + every_s]
        ms = (batches or {}).get(t0, {})
        took = " ".join(f"{ms[k]:4.0f}" if k in ms else "   -" for k in CONSUMERS)
        busy = (cores or {}).get(t0, {})
        machine = f"{busy['machine']:4.2f}" if "machine" in busy else "   -"
        pg = busy.get("PostgreSQL (all its processes)")
        lines.append(
            f"    {t0:4d} s: {rate:8,.0f}/s | {most['recorder']:5d} {most['plates']:5d} "
            f"{most['faces']:5d} | {took} | {machine} {'   -' if pg is None else f'{pg:4.2f}'} "
            f"| {len(lat):5,d} alerts, p99 {percentile(lat, 0.99) * 1000:6,.0f} ms"
        )
    return lines
