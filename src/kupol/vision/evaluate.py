"""Measuring the motion detector on a video: episodes with their times, and speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kupol.vision.motion import MotionDetector
from kupol.vision.sources import read_frames


@dataclass(frozen=True, kw_only=True)
class Episode:
    """One stretch of motion, in seconds of video (``end`` None: still moving at the end)."""

    start_s: float
    end_s: float | None


@dataclass(kw_only=True)
class MotionReport:
    """What the detector found in a video and how fast it ran."""

    frames: int = 0
    events: int = 0
    episodes: list[Episode] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        """Analysed frames per second of processing (decode included)."""
        return self.frames / self.seconds if self.seconds else 0.0


def measure_motion(
    path: str,
    *,
    analysis_fps: float = 5.0,
    min_area: float = 0.004,
    progress: Callable[[float], None] | None = None,
) -> MotionReport:
    """Run the detector over ``path`` as fast as possible.

    Args:
        path: a video file.
        analysis_fps: frames analysed per second of video.
        min_area: changed fraction of the image that counts as motion.
        progress: called with the video time of each analysed frame.
    """
    detector = MotionDetector(min_area=min_area, repeat_frames=max(1, int(analysis_fps * 5)))
    report = MotionReport()
    open_start: float | None = None
    started = time.perf_counter()
    for frame in read_frames(path, analysis_fps=analysis_fps):
        report.frames += 1
        if detector.update(frame.gray) is not None:
            report.events += 1
        if detector.in_episode and open_start is None:
            open_start = frame.pts_s
        elif not detector.in_episode and open_start is not None:
            report.episodes.append(Episode(start_s=open_start, end_s=frame.pts_s))
            open_start = None
        if progress is not None:
            progress(frame.pts_s)
    if open_start is not None:
        report.episodes.append(Episode(start_s=open_start, end_s=None))
    report.seconds = time.perf_counter() - started
    return report
