"""Recording observed events: exactly once per id, unknown cameras quarantined, alerts run."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kupol.alerts.messages import AlertChanged
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth import Principal
from kupol.core.auth.service import SYSTEM
from kupol.core.bus.base import DeliveryError
from kupol.events.messages import CameraEventObserved, CameraEventsRecorded
from kupol.events.model import CameraEvent
from tests.conftest import demo_camera, make_settings

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("fast_passwords")


def observed(camera_id: str = "cam-test-01", **fields: Any) -> CameraEventObserved:
    values: dict[str, Any] = {
        "camera_id": camera_id,
        "type": "motion",
        "confidence": 0.9,
        "occurred_at": T0,
    }
    values.update(fields)
    return CameraEventObserved(**values)


def stored_count(container: Container) -> int:
    with container.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(CameraEvent)) or 0)


@pytest.fixture
def camera(container: Container, admin: Principal) -> str:
    container.cameras.register(camera=CameraCreate(**demo_camera()), actor=admin)
    return "cam-test-01"


def test_an_event_recorded_twice_is_stored_once(container: Container, camera: str) -> None:
    event = observed()

    first = container.recorder.record([event])
    second = container.recorder.record([event])

    assert stored_count(container) == 1
    assert [type(m) for m in first] == [CameraEventsRecorded]
    assert second == []


def test_a_batch_repeating_an_id_stores_it_once(container: Container, camera: str) -> None:
    event = observed()

    container.recorder.record([event, event, observed()])

    assert stored_count(container) == 2


def test_stored_events_keep_their_fields(container: Container, camera: str) -> None:
    event = observed(zone="road", payload={"box": [0.1, 0.2, 0.3, 0.4]})

    container.recorder.record([event])

    with container.db.reader() as session:
        row = session.get(CameraEvent, event.id)
    assert row is not None
    assert (row.camera_id, row.type, row.zone, row.occurred_at) == (camera, "motion", "road", T0)
    assert row.payload == {"box": [0.1, 0.2, 0.3, 0.4]}


def test_events_of_unknown_cameras_are_quarantined_and_the_rest_stored(
    container: Container, camera: str
) -> None:
    container.recorder.record([observed(), observed("cam-ghost")])

    kept = container.quarantine.recent()

    assert stored_count(container) == 1
    assert len(kept) == 1
    assert "cam-ghost" in kept[0].reason
    assert kept[0].body["camera_id"] == "cam-ghost"


def test_a_camera_registered_after_start_is_recognised(
    container: Container, admin: Principal
) -> None:
    container.recorder.record([observed("cam-late")])  # unknown yet: quarantined
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-late")), actor=admin)

    container.recorder.record([observed("cam-late")])

    assert stored_count(container) == 1


def test_publishing_the_same_event_twice_on_the_bus_stores_it_once(
    container: Container, camera: str
) -> None:
    event = observed()

    async def publish_twice() -> None:
        await container.bus.publish(event)
        await container.bus.publish(event)

    asyncio.run(publish_twice())

    assert stored_count(container) == 1


def test_an_alert_change_is_never_lost_silently_when_its_consumer_is_down_for_a_while(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url=database_url, data_dir=tmp_path, bus={"retry_delays_s": [0.0, 0.0, 0.0]}
    )
    container = build_container(settings)
    try:
        container.cameras.register(camera=CameraCreate(**demo_camera()), actor=SYSTEM)
        container.alerts.create_rule(rule=AlertRuleCreate(name="any motion"), actor=SYSTEM)
        got: list[str] = []
        calls = 0

        async def down_for_four_calls(events: Sequence[AlertChanged]) -> None:
            nonlocal calls
            calls += 1
            if calls <= 4:
                raise RuntimeError("dispatch service down")
            got.extend(e.change for e in events)

        container.bus.subscribe(AlertChanged, down_for_four_calls, consumer="dispatch")

        async def ingest_then_let_the_relay_retry() -> bool:
            try:
                await container.bus.publish(observed())
            except DeliveryError:
                return False  # the producer was told and keeps the event: not lost
            # The alert change waits in the outbox while its consumer is down; the relay's
            # later attempts deliver it.
            for _ in range(10):
                if got:
                    break
                await container.outbox.flush_quietly()
            return True

        accepted = asyncio.run(ingest_then_let_the_relay_retry())
        assert accepted, "the events were stored: ingestion must not fail for a follow-up"
        assert got == ["raised"]
        assert container.outbox.pending_count() == 0
    finally:
        container.db.dispose()


def test_one_recorded_message_lists_the_fresh_events_of_a_batch(
    container: Container, camera: str
) -> None:
    old, new = observed(), observed(zone="road")
    container.recorder.record([old])

    (recorded,) = container.recorder.record([old, new])

    assert isinstance(recorded, CameraEventsRecorded)
    assert [(e.event_id, e.zone) for e in recorded.events] == [(new.id, "road")]
