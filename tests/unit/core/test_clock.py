"""A node's clock corrected to the database server's: the offset measured NTP-style, jitter
within the measurement's uncertainty ignored, a warning above the allowed skew, the gauge."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from kupol.core.db import ClockSample, ClockSync, Database
from kupol.core.messages import Clock, system_time
from kupol.core.metrics import Metrics


class FakeDatabase:
    """Answers clock measurements from a list."""

    def __init__(self, *samples: ClockSample) -> None:
        self.samples = list(samples)

    def clock_sample(self, source: object) -> ClockSample:
        return self.samples.pop(0)


def sync_for(*samples: ClockSample, clock: Clock, metrics: Metrics | None = None) -> ClockSync:
    db: Database = FakeDatabase(*samples)  # type: ignore[assignment]
    return ClockSync(db=db, clock=clock, max_skew_s=1.0,
                     report=metrics.clock if metrics else None)  # fmt: skip


def test_a_clock_ahead_is_corrected_by_the_measured_offset() -> None:
    clock = Clock(source=lambda: system_time() + timedelta(seconds=90))
    sync_for(ClockSample(offset_s=-90.0, uncertainty_s=0.0005), clock=clock).sync()
    assert abs((clock.now() - system_time()).total_seconds()) < 0.1
    assert clock.uncertainty_s == 0.0005


def test_a_new_offset_within_its_uncertainty_of_the_old_one_is_noise() -> None:
    clock = Clock()
    sync = sync_for(
        ClockSample(offset_s=0.0100, uncertainty_s=0.002),
        ClockSample(offset_s=0.0115, uncertainty_s=0.002),  # within 2 ms: kept as it was
        ClockSample(offset_s=0.0500, uncertainty_s=0.002),  # a real change: applied
        clock=clock,
    )
    sync.sync()
    sync.sync()
    assert clock.offset_s == 0.0100
    sync.sync()
    assert clock.offset_s == 0.0500


def test_an_offset_within_the_noise_of_zero_leaves_the_clock_uncorrected() -> None:
    clock = Clock()
    sync_for(ClockSample(offset_s=0.0004, uncertainty_s=0.0001), clock=clock).sync()
    assert clock.offset_s == 0.0


def test_a_skew_above_the_limit_warns_once_and_shows_as_a_gauge(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="kupol.core.db")
    metrics = Metrics()
    clock = Clock()
    sync = sync_for(
        *(ClockSample(offset_s=90.0, uncertainty_s=0.001) for _ in range(3)),
        ClockSample(offset_s=0.2, uncertainty_s=0.001),
        clock=clock, metrics=metrics,
    )  # fmt: skip
    for _ in range(3):
        sync.sync()
    assert caplog.text.count("clock is 90.0 s behind the database server's") == 1
    assert metrics.registry.get_sample_value("kupol_clock_skew_seconds") == -90.0
    sync.sync()
    assert "within 1 s of the database server's again" in caplog.text
    assert metrics.registry.get_sample_value("kupol_clock_skew_seconds") == -0.2


def test_on_sqlite_the_database_shares_this_machines_clock() -> None:
    sample = Database.from_url("sqlite://").clock_sample(system_time)
    assert sample.offset_s == 0.0
