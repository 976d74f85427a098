"""Built-in video sources: a broken one is reported and retried, the good ones keep working."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from kupol.alerts.model import Alert
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.events.model import CameraEvent
from kupol.settings import SourceSettings
from kupol.vision.synthetic import write_synthetic_video
from tests.conftest import make_settings


async def test_a_missing_video_is_reported_while_the_other_camera_raises_alerts(
    sqlite_url: str, tmp_path: Path
) -> None:
    video = write_synthetic_video(tmp_path / "street.mp4", seconds=10, fps=10)
    sources = (
        SourceSettings(camera_id="cam-good", path=str(video), realtime=False, analysis_fps=10),
        SourceSettings(camera_id="cam-bad", path=str(tmp_path / "nope.mp4"), realtime=False),
    )
    container = build_container(
        make_settings(database_url=sqlite_url, data_dir=tmp_path / "data", sources=sources)
    )
    for camera_id in ("cam-good", "cam-bad"):
        container.cameras.register(
            camera=CameraCreate(id=camera_id, name=camera_id, latitude=51.1, longitude=71.4),
            actor=SYSTEM,
        )
    container.alerts.create_rule(
        rule=AlertRuleCreate(name="motion", event_types=["motion"], cooldown_s=0), actor=SYSTEM
    )
    await container.start()
    try:
        health = {s.config.camera_id: s.health for s in container.sources}
        for _ in range(200):
            if health["cam-good"].state == "finished" and health["cam-bad"].last_error:
                break
            await asyncio.sleep(0.05)
        assert health["cam-good"].state == "finished"
        assert health["cam-bad"].state == "retrying"
        assert "video file not found" in (health["cam-bad"].last_error or "")
        with container.db.reader() as session:
            events = session.scalars(select(CameraEvent)).all()
            alerts = session.scalar(select(func.count()).select_from(Alert))
        # The synthetic video has a block crossing at 1, 5 and 9 s: three motion episodes.
        assert [e.camera_id for e in events] == ["cam-good"] * 3
        assert alerts == 3
        snapshot = container.evidence_dir / events[0].evidence[0]["uri"]
        assert snapshot.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    finally:
        await container.stop()
