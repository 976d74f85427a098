"""Motion detection by background subtraction, with episodes so one passing car is one event."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kupol.core.geo import point_in_polygon


@dataclass(frozen=True, kw_only=True)
class Box:
    """A box in image coordinates, 0..1 from the top-left corner."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def center(self) -> tuple[float, float]:
        """The box's centre."""
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)


@dataclass(frozen=True, kw_only=True)
class MotionStarted:
    """Motion began (or went on past ``repeat_s``) on this frame."""

    area: float
    box: Box
    episode: int
    confidence: float


class MotionDetector:
    """Running-average background subtraction on small grey frames.

    An episode starts after ``confirm`` consecutive frames with more than ``min_area`` of
    the image changed, ends after ``quiet`` still frames, and reports again every
    ``repeat_frames`` while it lasts.

    Example:
        >>> import numpy as np
        >>> detector = MotionDetector(min_area=0.01, warmup=1, confirm=1)
        >>> still = np.zeros((90, 160), np.uint8)
        >>> detector.update(still) is None
        True
        >>> moving = still.copy(); moving[10:40, 10:60] = 255
        >>> detector.update(moving).box.x1 < 0.1
        True
    """

    def __init__(
        self,
        *,
        min_area: float = 0.004,
        threshold: int = 25,
        alpha: float = 0.05,
        warmup: int = 5,
        confirm: int = 2,
        quiet: int = 5,
        repeat_frames: int = 25,
    ) -> None:
        self._min_area = min_area
        self._threshold = threshold
        self._alpha = alpha
        self._warmup = warmup
        self._confirm = confirm
        self._quiet = quiet
        self._repeat = repeat_frames
        self._background: NDArray[np.float32] | None = None
        self._seen = 0
        self._active_run = 0
        self._still_run = 0
        self._in_episode = False
        self._since_report = 0
        self.episodes = 0

    @property
    def in_episode(self) -> bool:
        """Whether motion is going on now."""
        return self._in_episode

    def update(self, gray: NDArray[np.uint8]) -> MotionStarted | None:
        """Feed one frame; returns a :class:`MotionStarted` when an episode starts or repeats."""
        frame = gray.astype(np.float32)
        if self._background is None or self._background.shape != frame.shape:
            self._background = frame
            self._seen = 1
            return None
        mask = np.abs(frame - self._background) > self._threshold
        # Adapt slowly, and not where things move, so a stopped car is not learnt at once.
        rate = np.where(mask, self._alpha * 0.2, self._alpha).astype(np.float32)
        self._background += rate * (frame - self._background)
        self._seen += 1
        if self._seen <= self._warmup:
            return None
        area = float(mask.mean())
        if area < self._min_area:
            self._active_run = 0
            self._still_run += 1
            if self._in_episode and self._still_run >= self._quiet:
                self._in_episode = False
            return None
        self._still_run = 0
        self._active_run += 1
        if not self._in_episode:
            if self._active_run < self._confirm:
                return None
            self._in_episode = True
            self.episodes += 1
            self._since_report = 0
            return self._report(mask, area)
        self._since_report += 1
        if self._since_report >= self._repeat:
            self._since_report = 0
            return self._report(mask, area)
        return None

    def _report(self, mask: NDArray[np.bool_], area: float) -> MotionStarted:
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        h, w = mask.shape
        box = Box(x1=cols[0] / w, y1=rows[0] / h, x2=(cols[-1] + 1) / w, y2=(rows[-1] + 1) / h)
        confidence = min(1.0, area / (self._min_area * 5))
        return MotionStarted(
            area=area, box=box, episode=self.episodes, confidence=round(confidence, 3)
        )


def zone_of(
    point: tuple[float, float], zones: list[tuple[str, list[tuple[float, float]]]]
) -> str | None:
    """The first zone containing ``point``, if any."""
    for name, polygon in zones:
        if point_in_polygon(point, polygon):
            return name
    return None
