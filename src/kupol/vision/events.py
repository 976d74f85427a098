"""What the pipeline reports: typed vision events, with the frames that prove them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

ALERT_TYPES = frozenset({"abandoned_object", "loitering", "intrusion", "crowd"})
"""Suspicious situations: each becomes an alert under the demo's rules."""
EVENT_TYPES = ALERT_TYPES | {"zone_enter", "zone_exit", "line_cross", "track_start", "track_end"}


@dataclass(frozen=True, kw_only=True)
class EvidenceFrame:
    """A frame kept as evidence, with what to draw on it.

    Attributes:
        label: what the frame shows ("alert", "drop", ...).
        pts_s: its time in the video.
        image: BGR analysed image (owned copy).
        boxes: boxes to outline, analysed-image pixels.
        path: a polyline to draw (the owner's walk), analysed-image pixels.
    """

    label: str
    pts_s: float
    image: NDArray[np.uint8] = field(repr=False)
    boxes: tuple[tuple[float, float, float, float], ...] = ()
    path: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, kw_only=True)
class VisionEvent:
    """One thing the pipeline saw.

    Attributes:
        type: one of :data:`EVENT_TYPES`.
        pts_s: time in the video, seconds.
        frame_index: the analysed frame's position among decoded frames.
        zone: the zone or line concerned, if any.
        object_class: the object's class name, if known.
        track_id: the object's track, if tracked.
        confidence: 0..1.
        box: normalised (x1, y1, x2, y2) of the object, 0..1.
        details: type-specific facts (dwell time, count, owner's track ...), JSON values.
        evidence: frames to keep with the event.
    """

    type: str
    pts_s: float
    frame_index: int
    zone: str | None = None
    object_class: str | None = None
    track_id: int | None = None
    confidence: float = 1.0
    box: tuple[float, float, float, float] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceFrame, ...] = field(default=(), repr=False)

    @property
    def is_alert(self) -> bool:
        """Whether this is a suspicious situation rather than a plain observation."""
        return self.type in ALERT_TYPES

    def as_json(self) -> dict[str, Any]:
        """The JSON line ``kupol analyze`` prints."""
        return {
            "type": self.type,
            "alert": self.is_alert,
            "time_s": round(self.pts_s, 2),
            "frame": self.frame_index,
            "zone": self.zone,
            "object_class": self.object_class,
            "track_id": self.track_id,
            "confidence": round(self.confidence, 3),
            "box": [round(v, 4) for v in self.box] if self.box is not None else None,
            **({"details": self.details} if self.details else {}),
        }


def normalised(
    box: tuple[float, float, float, float] | NDArray[np.float32], width: int, height: int
) -> tuple[float, float, float, float]:
    """A pixel box as 0..1 fractions of the image, clipped.

    Example:
        >>> normalised((64, 36, 320, 180), 640, 360)
        (0.1, 0.1, 0.5, 0.5)
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    return (
        round(min(1.0, max(0.0, x1 / width)), 4),
        round(min(1.0, max(0.0, y1 / height)), 4),
        round(min(1.0, max(0.0, x2 / width)), 4),
        round(min(1.0, max(0.0, y2 / height)), 4),
    )
