"""Load: simulated cameras' events and plate reads at a set rate through the bus into storage
and alerts, for a set time — throughput, the bus's lag, alert latency percentiles and loss.

Each second ``--rate`` messages are published in batches: 90 % camera events (motion), 9 %
plate reads, 1 % intrusions that each raise an alert (a rule on ``intrusion``; each in its own
zone, so each is a new alert). Alert latency is from the event's creation to the alert's
``raised`` change reaching a listener on the bus. At the end every message must be stored:
sent = stored (events and sightings), reported as loss otherwise. Loopback only. The issue's
target: 20,000 events/s sustained for 10 minutes, p99 alert latency ≤ 1 s, zero loss.

    .venv/bin/python bench/load.py [--rate 20000] [--seconds 60] [--cameras 200]
                                    [--database sqlite|postgres] [--bus memory|nats]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from ingest import NATS_URL, fresh_database
from kupol.alerts.messages import AlertChanged
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import Event
from kupol.events.messages import CameraEventObserved
from kupol.plates.messages import PlateObserved
from kupol.settings import load_settings

BATCH = 500


def batch(n: int, cameras: list[str], counter: list[int]) -> list[Event]:
    now = datetime.now(UTC)
    out: list[Event] = []
    for _ in range(n):
        i = counter[0]
        counter[0] += 1
        camera = cameras[i % len(cameras)]
        if i % 100 == 0:
            out.append(CameraEventObserved(camera_id=camera, type="intrusion", occurred_at=now,
                                           confidence=0.9, zone=f"z{i}"))  # fmt: skip
        elif i % 11 == 0:
            out.append(PlateObserved(camera_id=camera, plate=f"{i % 1000:03d}ABC02",
                                     seen_at=now, confidence=0.9))  # fmt: skip
        else:
            out.append(CameraEventObserved(camera_id=camera, type="motion", occurred_at=now,
                                           confidence=0.5, zone="road"))  # fmt: skip
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    overrides: dict[str, Any] = {"database": {"url": url}, "data_dir": workdir / "data"}
    if args.bus == "nats":
        stream = f"KL{uuid.uuid4().hex[:8].upper()}"
        overrides["bus"] = {"type": "nats", "nats_url": NATS_URL, "stream": stream,
                            "subject_prefix": stream.lower()}  # fmt: skip
    container = build_container(load_settings(toml_file=None, environ={}, **overrides))
    cameras = [f"load-{n:04d}" for n in range(args.cameras)]
    for c in cameras:
        container.cameras.register(camera=CameraCreate(id=c, name=c, latitude=51.1, longitude=71.4),
                                   actor=SYSTEM)  # fmt: skip
    container.alerts.create_rule(
        rule=AlertRuleCreate(name="load intrusion", event_types=["intrusion"], cooldown_s=0),
        actor=SYSTEM,
    )
    raised: dict[int, float] = {}
    rules: dict[int, str] = {}

    async def on_alerts(events: Any) -> None:
        now = datetime.now(UTC)
        for e in events:
            if isinstance(e, AlertChanged) and e.change == "raised":
                raised.setdefault(e.alert_id, (now - e.raised_at).total_seconds())
                rules[e.alert_id] = e.rule_name + "/" + e.event_type

    container.bus.subscribe(AlertChanged, on_alerts, consumer="load-listener", durable=False)
    await container.start(with_sources=False)
    counter = [0]
    sent = 0
    per_tick = max(1, round(args.rate / 10))  # ten ticks a second
    started = time.perf_counter()
    behind = 0.0
    try:
        tick = 0
        while time.perf_counter() - started < args.seconds:
            due = started + tick / 10
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            else:
                behind = max(behind, -pause)
            events = batch(per_tick, cameras, counter)
            for i in range(0, len(events), BATCH):
                await container.bus.publish(*events[i : i + BATCH])
            sent += len(events)
            tick += 1
        published_s = time.perf_counter() - started
        expected_events = sum(1 for i in range(sent) if i % 100 == 0 or i % 11 != 0)
        expected_plates = sent - expected_events
        deadline = time.perf_counter() + 120
        stored_events = stored_plates = 0
        while time.perf_counter() < deadline:
            with container.db.reader() as session:
                stored_events = session.execute(
                    text("SELECT count(*) FROM camera_events")).scalar_one()  # fmt: skip
                stored_plates = session.execute(
                    text("SELECT count(*) FROM plate_sightings")).scalar_one()  # fmt: skip
            if stored_events >= expected_events and stored_plates >= expected_plates:
                break
            await asyncio.sleep(0.2)
        drained_s = time.perf_counter() - started
        await asyncio.sleep(0.5)
    finally:
        if args.bus == "nats":
            await container.bus.purge()  # type: ignore[attr-defined]
        await container.stop()
    lag = container.metrics.summary().consumers
    latencies = [v for k, v in raised.items() if rules[k] == "load intrusion/intrusion"]
    others = sorted({r for r in rules.values() if r != "load intrusion/intrusion"})
    return {
        "sent": sent, "published_s": published_s, "drained_s": drained_s,
        "rate_sent": sent / published_s, "rate_stored": sent / drained_s,
        "behind_s": behind, "stored_events": stored_events, "expected_events": expected_events,
        "stored_plates": stored_plates, "expected_plates": expected_plates,
        "alerts": len(latencies), "alerts_expected": sum(1 for i in range(sent) if i % 100 == 0),
        "alert_p50": percentile(latencies, 0.5), "alert_p99": percentile(latencies, 0.99),
        "alert_mean": statistics.fmean(latencies) if latencies else float("nan"),
        "consumers": lag, "other_alerts": others,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bus", choices=("memory", "nats"), default="memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, drop = fresh_database(args.database, workdir)
        try:
            r = uvloop.run(run(args, url, workdir))
        finally:
            drop()
    loss = (r["expected_events"] - r["stored_events"]) + (r["expected_plates"] - r["stored_plates"])
    print(f"load: {args.database} + {args.bus} bus, {args.cameras} cameras, target "
          f"{args.rate:,}/s for {args.seconds:g} s")  # fmt: skip
    print(f"  sent {r['sent']:,} in {r['published_s']:.1f} s = {r['rate_sent']:,.0f}/s "
          f"(publisher at most {r['behind_s']:.2f} s behind schedule)")  # fmt: skip
    print(f"  stored all by {r['drained_s']:.1f} s = {r['rate_stored']:,.0f}/s end to end; "
          f"events {r['stored_events']:,}/{r['expected_events']:,}, plate sightings "
          f"{r['stored_plates']:,}/{r['expected_plates']:,}; loss {loss}")  # fmt: skip
    print(f"  alerts {r['alerts']:,}/{r['alerts_expected']:,}: latency p50 "
          f"{r['alert_p50'] * 1000:.0f} ms, p99 {r['alert_p99'] * 1000:.0f} ms "
          f"(target p99 ≤ 1,000 ms)")  # fmt: skip
    for name, c in sorted(r["consumers"].items()):
        print(f"  consumer {name}: handled {c['handled']:,.0f}, failed batches "
              f"{c['failed']:.0f}, {c['mean_ms']:.1f} ms a batch, "
              f"last lag {c['last_lag_s']:.3f} s")  # fmt: skip
    if r["other_alerts"]:
        print(f"  other alerts raised: {', '.join(r['other_alerts'])}")


if __name__ == "__main__":
    main()
