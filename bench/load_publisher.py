"""One publisher of the multi-process load bench: the load mix at a set rate onto the JetStream
bus (as an edge box or ``kupol run`` taking events in would), from a set start time for a set
time; what it sent, per kind and per second, is written to ``--result`` as JSON. Started by
bench/load_nodes.py, not by hand.

    .venv/bin/python bench/load_publisher.py SETTINGS.json SETUP.json RESULT.json \
        INDEX RATE SECONDS START_AT
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from kupol.bootstrap import build_bus
from kupol.settings import load_settings
from load_mix import BATCH, Mix, Setup

TICKS_PER_S = 10


async def publish(
    overrides: dict[str, Any],
    setup: Setup,
    index: int,
    rate: float,
    seconds: float,
    start_at: float,
) -> dict[str, Any]:
    bus = build_bus(load_settings(toml_file=None, environ={}, **overrides))
    await bus.start()
    mix = Mix(setup=setup, publisher=index)
    per_tick = max(1, round(rate / TICKS_PER_S))
    per_second: list[int] = []
    behind = 0.0
    await asyncio.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    cpu = time.process_time()
    try:
        tick = 0
        while tick < seconds * TICKS_PER_S:
            pause = started + tick / TICKS_PER_S - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            else:
                behind = max(behind, -pause)
            events = mix.batch(per_tick)
            for i in range(0, len(events), BATCH):
                await bus.publish(*events[i : i + BATCH])
            second = int(time.perf_counter() - started)
            per_second.extend([0] * (second + 1 - len(per_second)))
            per_second[second] += len(events)
            tick += 1
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await bus.stop()
    return {
        "sent": dict(mix.sent),
        "seconds": elapsed,
        "behind_s": behind,
        "cpu_s": cpu,
        "per_second": per_second,
    }


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings, setup, result = (Path(a) for a in sys.argv[1:4])
    index, rate, seconds, start_at = (float(a) for a in sys.argv[4:8])
    report = uvloop.run(
        publish(
            json.loads(settings.read_text()),
            Setup.of_json(json.loads(setup.read_text())),
            int(index),
            rate,
            seconds,
            start_at,
        )
    )
    result.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
