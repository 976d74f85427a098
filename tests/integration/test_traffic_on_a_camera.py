"""The traffic stage inside a camera's worker, on the simulated intersection's clip: the
worker's one buffer of recent frames serves the clips and the traffic evidence, and every
violation the script commits comes out with its frames, vehicle crop and clip."""

from __future__ import annotations

from pathlib import Path

from kupol.core.messages import Event
from kupol.faces.files import FaceFiles
from kupol.traffic.controller import SignalBoard
from kupol.traffic.live import TrafficStage
from kupol.traffic.messages import ViolationObserved
from kupol.traffic.simulation import INTERSECTION, camera_config, write_intersection_clip
from kupol.vision.clips import RecentFrames
from kupol.vision.config import CameraAnalytics
from kupol.vision.plugins import detector_for
from kupol.vision.worker import CameraWorker


def test_a_camera_worker_reports_the_scripts_violations_with_their_evidence(
    tmp_path: Path,
) -> None:
    clip = write_intersection_clip(tmp_path / "intersection.mp4")
    analytics = CameraAnalytics.model_validate(
        {
            "analysis_fps": 10,
            "width": 960,
            "detector": {"type": "scripted"},
            "motion": {"enabled": False},
            "intrusion": {"enabled": False},
            "abandoned": {"enabled": False},
            "traffic": camera_config(read_signal=True),
        }
    )
    shared: list[RecentFrames | None] = []

    def stage(
        camera_id: str, config: object, fps: float, frames: RecentFrames | None
    ) -> TrafficStage:
        shared.append(frames)
        files = FaceFiles(tmp_path / "evidence")
        return TrafficStage(camera_id=camera_id, config=analytics.traffic, signals=SignalBoard(),
                            files=files, fps=fps, frames=frames)  # fmt: skip

    published: list[Event] = []
    worker = CameraWorker(
        camera_id="sim",
        source=str(clip),
        analytics=analytics,
        detector=detector_for(analytics.detector),
        publish=published.extend,
        evidence_dir=tmp_path / "evidence",
        loop_files=False,
        realtime=False,
        traffic=stage,
    )
    worker.start()
    worker._thread.join(120)
    assert worker.health.state == "finished", worker.health.last_error
    assert shared and shared[0] is not None  # the worker's own buffer
    found = [m for m in published if isinstance(m, ViolationObserved)]
    assert sorted(v.offence for v in found) == sorted(o for o, _ in INTERSECTION.expected)
    for violation in found:
        assert {e.kind for e in violation.evidence} >= {"frame_at", "vehicle", "clip"}
