"""Clock skew between nodes: a vision worker's clock 90 s ahead, another's 90 s behind. Each
node measures its clock against the PostgreSQL server's (NTP-style, kupol.core.db.ClockSync)
and stamps with the corrected time, so events keep the order they happened in, the lease table
stays fair, and the skew is a Prometheus gauge and a warning. Skews are injected through the
clocks' source functions, not by changing the system clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.db import ClockSync
from kupol.core.messages import Clock, system_time
from kupol.events.messages import CameraEventObserved
from kupol.events.model import CameraEvent
from kupol.vision.leases import CameraLeases
from tests.conftest import _truncate_postgres, make_settings

SKEWS = {"ahead": 90.0, "behind": -90.0}
CAMERA = "skew-cam-01"


def skewed(seconds: float) -> Clock:
    """A node's clock ``seconds`` off the true time."""
    return Clock(source=lambda: system_time() + timedelta(seconds=seconds))


@pytest.fixture
def nodes(postgres_database: str, tmp_path: Path) -> Iterator[dict[str, Container]]:
    _truncate_postgres(postgres_database)
    made = {
        name: build_container(
            make_settings(database_url=postgres_database, data_dir=tmp_path / name),
            clock=skewed(skew),
        )
        for name, skew in SKEWS.items()
    }
    made["ahead"].cameras.register(
        camera=CameraCreate(id=CAMERA, name="Skew", latitude=51.1, longitude=71.4), actor=SYSTEM
    )
    yield made
    for node in made.values():
        node.db.dispose()


async def test_events_from_nodes_with_skewed_clocks_are_stored_in_the_order_they_happened(
    nodes: dict[str, Container], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kupol.core.db")
    for node in nodes.values():
        await node.start(with_sources=False)  # measures its clock before anything else
    try:
        raw = {}
        # Interleaved, 100 ms apart (more than the two clocks' measured offsets may be off
        # by together on a loaded machine): the real order is n.
        for n in range(20):
            node = nodes["ahead" if n % 2 == 0 else "behind"]
            raw[n] = node.clock.source()
            event = CameraEventObserved(camera_id=CAMERA, type="motion", confidence=0.5,
                                        occurred_at=node.clock.now(), payload={"n": n})  # fmt: skip
            await node.bus.publish(event)  # its own recorder stores it
            await asyncio.sleep(0.1)
    finally:
        for node in nodes.values():
            await node.stop()
    with nodes["ahead"].db.reader() as session:
        stored = [e.payload["n"] for e in session.scalars(
            select(CameraEvent).order_by(CameraEvent.occurred_at))]  # fmt: skip
    assert stored == list(range(20))
    # Stamped by the nodes' own clocks the order would be wrong: every event of the node
    # ahead after every event of the one behind.
    assert sorted(raw, key=raw.__getitem__) != list(range(20))
    for name, skew in SKEWS.items():
        gauge = nodes[name].metrics.registry.get_sample_value("kupol_clock_skew_seconds")
        assert gauge is not None and abs(gauge - skew) < 0.5, (name, gauge)
        uncertainty = nodes[name].metrics.registry.get_sample_value(
            "kupol_clock_uncertainty_seconds"
        )
        assert uncertainty is not None and uncertainty < 0.1
    assert "clock is 90.0 s ahead of the database server's" in caplog.text
    assert "clock is 90.0 s behind the database server's" in caplog.text


def test_workers_with_skewed_clocks_share_the_cameras_fairly_once_their_clocks_are_corrected(
    nodes: dict[str, Container],
) -> None:
    db = nodes["ahead"].db
    cameras = [f"skew-{n:02d}" for n in range(4)]
    clocks = {name: skewed(skew) for name, skew in SKEWS.items()}

    def share(clock_of: dict[str, object]) -> dict[str, set[str]]:
        leases = [CameraLeases(db=db, worker=w, ttl_s=6, clock=c) for w, c in clock_of.items()]  # type: ignore[arg-type]
        for _ in range(3):
            held = {lease.worker: lease.beat(cameras) for lease in leases}
        for lease in leases:
            lease.release()
        return held

    # Uncorrected, the worker ahead thinks the other's heartbeat and leases long expired and
    # takes every camera; the one behind can take none back.
    assert share({w: c.source for w, c in clocks.items()}) == {
        "ahead": set(cameras), "behind": set()
    }  # fmt: skip
    for clock in clocks.values():
        ClockSync(db=db, clock=clock, max_skew_s=1.0).sync()
    held = share({w: c.now for w, c in clocks.items()})
    assert sorted(held["ahead"] | held["behind"]) == cameras
    assert len(held["ahead"]) == len(held["behind"]) == 2
