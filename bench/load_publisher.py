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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from kupol.bootstrap import build_bus
from kupol.settings import load_settings
from load_mix import BATCH, Mix, Setup

TICKS_PER_S = 10


@dataclass
class Paced:
    """What :func:`publish_paced` sent: events per second, and how far it ever fell behind
    its schedule."""

    per_second: list[int] = field(default_factory=list)
    behind_s: float = 0.0
    seconds: float = 0.0


async def publish_paced(
    publish: Callable[..., Awaitable[Any]], mix: Mix, rate: float, seconds: float
) -> Paced:
    """The mix at ``rate`` events a second for ``seconds``, in ``TICKS_PER_S`` ticks a second
    (each tick's events published in slices of ``BATCH``); a tick that comes late is sent at
    once and the lateness noted, so the rate is kept on average."""
    per_tick = max(1, round(rate / TICKS_PER_S))
    paced = Paced()
    started = time.perf_counter()
    tick = 0
    while tick < seconds * TICKS_PER_S:
        pause = started + tick / TICKS_PER_S - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        else:
            paced.behind_s = max(paced.behind_s, -pause)
        events = mix.batch(per_tick)
        for i in range(0, len(events), BATCH):
            await publish(*events[i : i + BATCH])
        second = int(time.perf_counter() - started)
        paced.per_second.extend([0] * (second + 1 - len(paced.per_second)))
        paced.per_second[second] += len(events)
        tick += 1
    paced.seconds = time.perf_counter() - started
    return paced


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
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    try:
        paced = await publish_paced(bus.publish, mix, rate, seconds)
        cpu = time.process_time() - cpu
    finally:
        await bus.stop()
    return {
        "sent": dict(mix.sent),
        "seconds": paced.seconds,
        "behind_s": paced.behind_s,
        "cpu_s": cpu,
        "per_second": paced.per_second,
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
