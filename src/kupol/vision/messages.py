"""Bus messages of the vision domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class TrackObserved(Event):
    """A track started, moved on, or ended (Frigate's start/update/end lifecycle).

    ``run_id`` names one run of a camera's pipeline: track ids restart when a camera's
    pipeline restarts, so ``(camera_id, run_id, track_id)`` is the track's identity.
    ``path`` holds the points seen since the previous message: (seconds since the
    track started, x, y), the feet of the object as 0..1 fractions of the image.
    """

    camera_id: str
    run_id: str
    track_id: int
    stage: str  # start | update | end
    object_class: str
    started_at: datetime
    seen_at: datetime
    confidence: float
    box: tuple[float, float, float, float]
    path: tuple[tuple[float, float, float], ...] = ()
