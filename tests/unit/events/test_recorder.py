"""Recording observed events: exactly once per id, unknown cameras quarantined, alerts run."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from kupol.alerts.messages import AlertChanged
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth import Principal
from kupol.events.messages import CameraEventObserved, CameraEventRecorded
from kupol.events.model import CameraEvent
from tests.conftest import demo_camera

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def observed(camera_id: str = "cam-test-01", **fields: Any) -> CameraEventObserved:
    values: dict[str, Any] = {"camera_id": camera_id, "type": "motion", "confidence": 0.9,
                              "occurred_at": T0}
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
    assert [type(m) for m in first] == [CameraEventRecorded]
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
        container: Container, camera: str) -> None:
    container.recorder.record([observed(), observed("cam-ghost")])

    kept = container.quarantine.recent()

    assert stored_count(container) == 1
    assert len(kept) == 1
    assert "cam-ghost" in kept[0].reason
    assert kept[0].body["camera_id"] == "cam-ghost"


def test_a_camera_registered_after_start_is_recognised(container: Container,
                                                       admin: Principal) -> None:
    container.recorder.record([observed("cam-late")])  # unknown yet: quarantined
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-late")), actor=admin)

    container.recorder.record([observed("cam-late")])

    assert stored_count(container) == 1


def test_publishing_the_same_event_twice_on_the_bus_stores_it_once(
        container: Container, camera: str) -> None:
    event = observed()

    async def publish_twice() -> None:
        await container.bus.publish(event)
        await container.bus.publish(event)

    asyncio.run(publish_twice())

    assert stored_count(container) == 1


@pytest.mark.xfail(strict=True, reason="follow-up events are published after the recording "
                   "commits and are dropped when the recorder is retried (no outbox)")
def test_a_durable_consumer_of_alert_changes_that_fails_once_still_gets_the_alert(
        container: Container, camera: str, operator: Principal) -> None:
    container.alerts.create_rule(rule=AlertRuleCreate(name="any motion"), actor=operator)
    got: list[AlertChanged] = []
    calls = 0

    async def flaky(events: Sequence[AlertChanged]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("consumer briefly down")
        got.extend(events)

    container.bus.subscribe(AlertChanged, flaky, consumer="dispatch")

    asyncio.run(container.bus.publish(observed(occurred_at=T0 + timedelta(seconds=1))))

    assert [c.change for c in got] == ["raised"]


def test_recorded_events_carry_the_event_id(container: Container, camera: str) -> None:
    event = observed()

    (recorded,) = container.recorder.record([event])

    assert isinstance(recorded, CameraEventRecorded)
    assert recorded.event_id == event.id
    assert recorded.id != event.id


def test_an_unknown_event_id_is_fresh(container: Container, camera: str) -> None:
    container.recorder.record([observed(id=uuid4())])

    assert stored_count(container) == 1
