"""The process's metrics: counters and histograms recorded, a bus consumer's time, lag and
failures, the camera pipelines' health read at each scrape, and the health page's rates."""

from __future__ import annotations

import asyncio
import doctest
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from kupol.core import metrics as module
from kupol.core.messages import utcnow
from kupol.core.metrics import Metrics


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(module).failed == 0


@dataclass
class Old:
    created_at: Any


def test_a_consumer_is_timed_its_lag_measured_and_its_failures_counted() -> None:
    m = Metrics()
    seen: list[object] = []

    async def handle(batch: Any) -> None:
        seen.extend(batch)

    async def fail(batch: Any) -> None:
        raise RuntimeError("database down")

    timed = m.instrument(handle, "plates-store")
    asyncio.run(timed([Old(utcnow() - timedelta(seconds=1.5)), Old(utcnow())]))
    assert len(seen) == 2
    broken = m.instrument(fail, "alerts")
    with pytest.raises(RuntimeError):
        asyncio.run(broken([Old(utcnow())]))
    text = m.exposition().decode()
    assert 'kupol_bus_handled_total{consumer="plates-store"} 2.0' in text
    assert 'kupol_bus_failed_total{consumer="alerts"} 1.0' in text
    assert 'kupol_errors_total{where="bus:alerts"} 1.0' in text
    summary = m.summary()
    assert summary.consumers["plates-store"]["handled"] == 2
    # The lag of the batch's last event is its age: about zero here, 1.5 s before it (a
    # second of room either side of the buckets' bounds for a stalled machine).
    assert 0 <= summary.consumers["plates-store"]["last_lag_s"] < 1
    assert 'kupol_bus_lag_seconds_bucket{consumer="plates-store",le="2.5"} 2.0' in text
    assert 'kupol_bus_lag_seconds_bucket{consumer="plates-store",le="1.0"} 1.0' in text


@dataclass
class Health:
    camera_id: str
    state: str
    frames: int
    analysis_s: float
    dropped: int = 0
    restarts: int = 0
    fps_in: float = 10.0
    fps_out: float = 5.0
    lag_s: float = 0.1


def test_the_cameras_health_is_read_at_each_scrape_and_rates_come_from_the_movement() -> None:
    m = Metrics()
    cameras = [Health("ast-01", "running", 100, 2.0), Health("ast-02", "retrying", 0, 0.0)]
    m.cameras(lambda: cameras)
    text = m.exposition().decode()
    assert 'kupol_camera_up{camera="ast-01"} 1.0' in text
    assert 'kupol_camera_up{camera="ast-02"} 0.0' in text
    assert 'kupol_camera_fps{camera="ast-01",way="out"} 5.0' in text
    first = m.summary()
    assert first.cameras["ast-01"].total == 100 and first.cameras["ast-01"].per_s is None
    assert first.detector_ms_mean == 20.0  # 2 s over 100 frames
    cameras[0] = Health("ast-01", "running", 160, 3.2)
    second = m.summary()
    assert second.cameras["ast-01"].total == 160
    assert second.cameras["ast-01"].per_s is not None and second.cameras["ast-01"].per_s > 0


def test_requests_and_decisions_are_counted_by_template_and_kind() -> None:
    m = Metrics()
    for status in (200, 200, 503):
        m.request(method="GET", route="/api/plates/{plate}", status=status, seconds=0.004)
    m.decision("call_block", 3)
    text = m.exposition().decode()
    assert 'route="/api/plates/{plate}",status="200"} 2.0' in text
    summary = m.summary()
    assert summary.http["requests"] == 3 and summary.http["server_errors"] == 1
    assert summary.decisions["call_block"].total == 3


def test_the_database_pool_is_exposed_and_connections_beyond_it_are_counted_as_opened(
    database_url: str,
) -> None:
    from prometheus_client.parser import text_string_to_metric_families
    from sqlalchemy import text

    from kupol.core.db import Database

    db = Database.from_url(database_url, pool_size=1)
    metrics = Metrics()
    metrics.database(db.engine)

    def samples() -> dict[str, float]:
        found = {}
        for family in text_string_to_metric_families(metrics.exposition().decode()):
            for s in family.samples:
                if s.name.startswith("kupol_db_"):
                    found[s.name + "".join(f":{v}" for v in s.labels.values())] = s.value
        return found

    try:
        if db.dialect == "sqlite":  # one writer at a time
            with db.unit_of_work() as session:
                session.execute(text("select 1"))
            assert samples()["kupol_db_connections_opened_total"] == 1
            return
        for _ in range(3):  # two held at once, then returned: the pool keeps one
            with db.engine.connect() as a, db.engine.connect() as b:
                a.exec_driver_sql("select 1")
                b.exec_driver_sql("select 1")
                during = samples()
        after = samples()
    finally:
        db.dispose()
    assert during["kupol_db_pool_connections:in_use"] == 2
    assert during["kupol_db_pool_connections:beyond_size"] == 1
    assert (after["kupol_db_pool_connections:in_use"], after["kupol_db_pool_connections:idle"]) == (
        0,
        1,
    )
    # The one beyond the pool's size was closed each time and opened again: 1 + 3.
    assert after["kupol_db_connections_opened_total"] == 4
