"""``kupol analyze``: the camera pipeline on a video file, events out as they happen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from kupol.vision.config import CameraAnalytics
from kupol.vision.detectors.base import Detector
from kupol.vision.events import VisionEvent
from kupol.vision.pipeline import CameraPipeline
from kupol.vision.plugins import detector_for
from kupol.vision.sources import read_frames


@dataclass(kw_only=True)
class AnalysisStats:
    """How the run went: frames read and analysed, detector calls, analysis time."""

    frames: int = 0
    detector_runs: int = 0
    seconds: float = 0.0
    events: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def analyze_video(
    path: str,
    *,
    config: CameraAnalytics,
    detector: Detector | None = None,
    track_events: bool = False,
    stats: AnalysisStats | None = None,
) -> Iterator[VisionEvent]:
    """Run one camera's pipeline over ``path`` and yield its events in time order.

    ``detector`` overrides the one the config names (tests pass a shared instance).
    """
    stats = stats if stats is not None else AnalysisStats()
    pipeline = CameraPipeline(
        config=config,
        detector=detector if detector is not None else detector_for(config.detector),
        track_events=track_events,
    )
    last_t, last_index = 0.0, 0
    for frame in read_frames(
        path, analysis_fps=config.analysis_fps, width=config.width, input_format=config.input_format
    ):
        result = pipeline.process(frame)
        stats.frames += 1
        stats.detector_runs += int(result.detector_ran)
        stats.seconds += result.seconds
        last_t, last_index = frame.pts_s, frame.source_index
        for event in result.events:
            stats.events += 1
            stats.by_type[event.type] = stats.by_type.get(event.type, 0) + 1
            yield event
    for event in pipeline.finish(last_t, last_index):
        stats.events += 1
        stats.by_type[event.type] = stats.by_type.get(event.type, 0) + 1
        yield event
