"""A traffic survey of a recorded video: how many vehicles the calibrated camera saw and how
fast each went — the camera's speed distribution, and a check of its calibration on real
traffic before its rules are trusted.

Runs the camera's pipeline (detector, tracker) and the traffic stage over the file as fast as
it can; nothing is stored or reported.

Example (a file and a camera's analytics with its traffic calibration)::

    survey = survey_video(Path("highway.avi"), analytics)
    survey.vehicles, survey.percentile(50)
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from kupol.faces.files import FaceFiles
from kupol.traffic.controller import SignalBoard
from kupol.traffic.live import RoadUser, TrafficStage
from kupol.traffic.speed import SpeedEstimate
from kupol.vision.config import CameraAnalytics
from kupol.vision.detections import class_name
from kupol.vision.pipeline import CameraPipeline
from kupol.vision.plugins import detector_for
from kupol.vision.sources import read_frames


@dataclass(frozen=True, kw_only=True)
class Survey:
    """What a survey measured."""

    vehicles: int
    """Vehicle tracks on the road for three analysed frames or more."""
    speeds: list[SpeedEstimate] = field(default_factory=list)
    """The vehicles timed (tracks long and straight enough)."""
    video_s: float = 0.0

    @property
    def kmh(self) -> list[float]:
        """The timed speeds, slowest first."""
        return sorted(s.kmh for s in self.speeds)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile of the timed speeds."""
        return float(np.percentile(self.kmh, q)) if self.speeds else float("nan")


def survey_video(path: Path, analytics: CameraAnalytics, *, until_s: float | None = None) -> Survey:
    """Survey ``path`` with a camera's ``analytics`` (its traffic section must be on).

    Raises:
        InvalidInputError: traffic is not switched on in ``analytics``.
    """
    from kupol.core.errors import InvalidInputError

    if not analytics.traffic.enabled:
        raise InvalidInputError("the analytics have no traffic section switched on")
    pipeline = CameraPipeline(config=analytics, detector=detector_for(analytics.detector))
    config = analytics.traffic.model_copy(update={"speed_limit_kmh": None, "clip": False})
    start = datetime(2000, 1, 1, tzinfo=UTC)
    last = 0.0
    with tempfile.TemporaryDirectory() as folder:
        stage = TrafficStage(
            camera_id="survey",
            config=config,
            signals=SignalBoard(),
            files=FaceFiles(Path(folder)),
            fps=analytics.analysis_fps,
        )
        for frame in read_frames(
            str(path), analysis_fps=analytics.analysis_fps, width=analytics.width
        ):
            if until_s is not None and frame.pts_s > until_s:
                break
            result = pipeline.process(frame)
            tracked = result.tracked
            users = [
                RoadUser(
                    track_id=int(t),
                    box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                    class_name=class_name(int(c), pipeline.names),
                )
                for b, c, t in zip(tracked.xyxy, tracked.class_id, tracked.tracker_id, strict=True)
                if t >= 0
            ]
            stage.process(
                frame.image,
                pts_s=frame.pts_s,
                occurred=start + timedelta(seconds=frame.pts_s),
                users=users,
                ended=[e.track_id for e in result.track_events if e.kind == "end"],
            )
            last = frame.pts_s
        stage.finish()
    return Survey(vehicles=stage.vehicles, speeds=list(stage.speeds), video_s=last)
