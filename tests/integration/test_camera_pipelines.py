"""Camera pipelines follow the registry while kupol runs, and a broken source harms no other."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from kupol.alerts.model import Alert
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate, CameraUpdate, Zone
from kupol.core.auth.service import SYSTEM
from kupol.events.model import CameraEvent
from kupol.vision.model import TrackRecord
from kupol.vision.scenario import write_video as write_scenario
from kupol.vision.scenario import zone_dwell
from tests.conftest import make_settings

# The motion fallback tracks the scenario's moving blocks without the object detector;
# the "bench" zone is restricted, so walking into it is an intrusion.
ANALYTICS = {
    "detector": {"type": "motion"},
    "intrusion": {"classes": ["motion"]},
    "abandoned": {"enabled": False},
    "clips": {"before_s": 1.0, "after_s": 1.0},
}
BENCH = Zone(
    name="bench", kind="restricted", polygon=[(0.4, 0.5), (0.6, 0.5), (0.6, 0.9), (0.4, 0.9)]
)


async def wait_for(check: Callable[[], bool], *, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def register(container: Container, camera_id: str, source: str | None, **extra: object) -> None:
    container.cameras.register(
        camera=CameraCreate(
            id=camera_id,
            name=camera_id,
            latitude=51.1,
            longitude=71.4,
            stream_url=source,
            **extra,  # type: ignore[arg-type]
        ),
        actor=SYSTEM,
    )


def vision_settings(tmp_path: Path, sqlite_url: str) -> Container:
    return build_container(
        make_settings(
            database_url=sqlite_url,
            data_dir=tmp_path / "data",
            vision={"poll_s": 0.2, "loop_files": False, "realtime_files": False},
        )
    )


async def test_a_missing_video_is_retried_while_the_other_camera_raises_alerts_with_evidence(
    sqlite_url: str, tmp_path: Path
) -> None:
    video = write_scenario(zone_dwell(), tmp_path / "bench.mp4")
    container = vision_settings(tmp_path, sqlite_url)
    register(container, "cam-good", str(video), zones=[BENCH], analytics=ANALYTICS)
    register(container, "cam-bad", str(tmp_path / "nope.mp4"))
    container.alerts.create_rule(
        rule=AlertRuleCreate(name="intrusion", event_types=["intrusion"], cooldown_s=0),
        actor=SYSTEM,
    )
    container.alerts.create_rule(
        rule=AlertRuleCreate(name="camera down", event_types=["stream_lost"], cooldown_s=600),
        actor=SYSTEM,
    )
    await container.start()
    try:
        assert container.vision is not None
        good = container.vision.workers["cam-good"].health
        bad = container.vision.workers["cam-bad"].health
        await wait_for(lambda: good.state == "finished" and bad.state == "retrying")
        assert "video file not found" in (bad.last_error or "")
        # The missing stream is a health event once (not once a retry) and a health alert.
        await wait_for(lambda: bad.restarts >= 2)
        with container.db.reader() as session:
            lost = session.scalars(select(CameraEvent).where(CameraEvent.type == "stream_lost"))
            assert [e.camera_id for e in lost] == ["cam-bad"]
            down = session.scalars(select(Alert).where(Alert.event_type == "stream_lost")).all()
            assert [a.camera_id for a in down] == ["cam-bad"]
        assert good.frames == 80  # 16 s at 5 analysed frames a second
        with container.db.reader() as session:
            events = session.scalars(select(CameraEvent)).all()
            alerts = session.scalars(select(Alert)).all()
            tracks = session.scalars(select(TrackRecord)).all()
        by_type = sorted(e.type for e in events)
        # The red walker is in the restricted bench zone from 4.5 s to 11.5 s. Moving blobs
        # (no detector) split a flat-coloured block in two and lose it while it stands, so
        # an intrusion may be reported more than once, but only while someone is inside.
        intrusions = [e for e in events if e.type == "intrusion"]
        assert intrusions
        assert all(e.zone == "bench" for e in intrusions)
        assert all(4.5 <= e.payload["time_s"] <= 11.8 for e in intrusions)
        assert "zone_enter" in by_type and "zone_exit" in by_type
        assert len([a for a in alerts if a.event_type == "intrusion"]) == len(intrusions)
        intrusion = min(intrusions, key=lambda e: e.payload["time_s"])
        assert intrusion.payload["time_s"] <= 5.5
        kinds = [ref["kind"] for ref in intrusion.evidence]
        assert kinds == ["snapshot", "clip"]
        snapshot = container.evidence_dir / intrusion.evidence[0]["uri"]
        clip = container.evidence_dir / intrusion.evidence[1]["uri"]
        assert snapshot.read_bytes()[:2] == b"\xff\xd8"
        assert clip.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # WebM (EBML)
        await wait_for(lambda: _ended_tracks(container) >= 2)
        assert {t.camera_id for t in tracks} <= {"cam-good"}
    finally:
        await container.stop()


def _ended_tracks(container: Container) -> int:
    with container.db.reader() as session:
        return sum(t.state == "ended" for t in session.scalars(select(TrackRecord)))


async def test_cameras_are_added_changed_and_disabled_without_a_restart(
    sqlite_url: str, tmp_path: Path
) -> None:
    video = write_scenario(zone_dwell(), tmp_path / "bench.mp4")
    container = build_container(
        make_settings(
            database_url=sqlite_url,
            data_dir=tmp_path / "data",
            vision={"poll_s": 0.2, "loop_files": True, "realtime_files": True},
        )
    )
    await container.start()
    try:
        manager = container.vision
        assert manager is not None
        assert manager.workers == {}

        register(container, "cam-new", str(video), analytics=ANALYTICS)
        await wait_for(lambda: "cam-new" in manager.workers)
        first = manager.workers["cam-new"]
        await wait_for(lambda: first.health.frames > 3)

        container.cameras.update(
            camera_id="cam-new", changes=CameraUpdate(zones=[BENCH]), actor=SYSTEM
        )
        await wait_for(lambda: manager.workers.get("cam-new") not in (None, first))
        assert [z.name for z in manager.workers["cam-new"].analytics.zones] == ["bench"]
        assert not first.alive

        container.cameras.update(
            camera_id="cam-new", changes=CameraUpdate(enabled=False), actor=SYSTEM
        )
        await wait_for(lambda: "cam-new" not in manager.workers)
    finally:
        await container.stop()
