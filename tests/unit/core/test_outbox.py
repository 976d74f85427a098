"""The transactional outbox: announcements survive a crash and a refusing bus."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from kupol.alerts.messages import AlertChanged
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.events.messages import CameraEventObserved
from kupol.settings import Settings


def motion() -> CameraEventObserved:
    return CameraEventObserved(
        camera_id="cam-o", type="motion", confidence=0.9, occurred_at=datetime.now(UTC)
    )


def prepare(container: Container) -> None:
    container.cameras.register(
        camera=CameraCreate(id="cam-o", name="o", latitude=1, longitude=2), actor=SYSTEM
    )
    container.alerts.create_rule(rule=AlertRuleCreate(name="any"), actor=SYSTEM)


def test_announcements_left_by_a_crash_are_published_when_kupol_starts_again(
    container: Container, settings: Settings
) -> None:
    prepare(container)
    # The process "dies" right after the recording transaction commits.
    container.recorder.record([motion()])
    assert container.outbox.pending_count() == 1  # the alert raised

    restarted = build_container(settings)
    seen: list[str] = []

    async def remember(events: Sequence[AlertChanged]) -> None:
        seen.extend(e.change for e in events)

    restarted.bus.subscribe(AlertChanged, remember, consumer="dispatch")

    async def run() -> None:
        await restarted.start(with_sources=False)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
        await restarted.stop()

    asyncio.run(run())
    assert seen == ["raised"]
    assert build_container(settings).outbox.pending_count() == 0


def test_nothing_is_announced_for_a_recording_that_rolled_back(container: Container) -> None:
    prepare(container)

    def failing_processor(session, events):  # type: ignore[no-untyped-def]
        raise RuntimeError("database trouble mid-transaction")

    container.recorder.add_processor(failing_processor)
    with pytest.raises(RuntimeError):
        container.recorder.record([motion()])
    assert container.outbox.pending_count() == 0
