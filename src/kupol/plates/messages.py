"""Bus messages of the plates domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class PlateObserved(Event):
    """A camera read a vehicle's plate (voted over the vehicle's track)."""

    camera_id: str
    plate: str
    seen_at: datetime
    confidence: float
    direction: str | None = None
    vehicle_class: str | None = None
    vehicle_colour: str | None = None
    track: str | None = None
    crop_uri: str | None = None
    crop_sha256: str | None = None
