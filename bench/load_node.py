"""One node of the multi-process load bench: a whole kupol container, as ``kupol worker`` builds
it, consuming the shared JetStream durable consumers until SIGTERM; then its consumers'
metrics are written to ``--result`` as JSON. Started by bench/load_nodes.py, not by hand.

    .venv/bin/python bench/load_node.py SETTINGS.json READY_FILE RESULT.json
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from kupol.bootstrap import build_container
from kupol.core.metrics import Metrics
from kupol.settings import load_settings


def lag_buckets(metrics: Metrics) -> dict[str, list[tuple[float, float]]]:
    """Per consumer, the lag histogram's cumulative buckets: (upper bound s, events)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for metric in metrics.lag_seconds.collect():
        for sample in metric.samples:
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                out.setdefault(sample.labels["consumer"], []).append((bound, sample.value))
    return out


def batch_totals(metrics: Metrics) -> dict[str, tuple[float, float]]:
    """Per consumer, the batches handled so far and the seconds they took."""
    count: dict[str, float] = {}
    spent: dict[str, float] = {}
    for metric in metrics.handle_seconds.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                count[sample.labels["consumer"]] = sample.value
            elif sample.name.endswith("_sum"):
                spent[sample.labels["consumer"]] = sample.value
    return {name: (n, spent.get(name, 0.0)) for name, n in count.items()}


async def serve(overrides: dict[str, Any], ready: Path, result: Path) -> None:
    container = build_container(load_settings(toml_file=None, environ={}, **overrides))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await container.start(with_sources=False)
    await asyncio.to_thread(ready.write_text, "ready")
    # every 5 s: (wall time, per consumer (batches so far, seconds so far)) — the batches' time
    # over the run, for the timeline
    batches: list[tuple[float, dict[str, tuple[float, float]]]] = []

    async def record_batches() -> None:
        while True:
            batches.append((time.time(), batch_totals(container.metrics)))
            await asyncio.sleep(5)

    recorder = asyncio.create_task(record_batches())
    try:
        await stop.wait()
    finally:
        recorder.cancel()
        await container.stop()
    summary = container.metrics.summary()
    opened = container.metrics.registry.get_sample_value("kupol_db_connections_opened_total")
    report = {
        "consumers": summary.consumers,
        "lag": lag_buckets(container.metrics),
        "db_connections_opened": opened or 0.0,
        "batches": batches,
    }
    await asyncio.to_thread(result.write_text, json.dumps(report))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings, ready, result = (Path(a) for a in sys.argv[1:4])
    uvloop.run(serve(json.loads(settings.read_text()), ready, result))


if __name__ == "__main__":
    main()
