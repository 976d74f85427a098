"""Bus messages of the faces domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class FaceObserved(Event):
    """A usable face a camera saw: its template, where and when, and its crop as evidence.

    ``template`` is the unit-length embedding (``model`` names the embedder: templates of
    different models are never compared). ``track`` is the vision track of the person the
    face belongs to, when known, so one walk past a camera is one group of sightings.
    """

    camera_id: str
    seen_at: datetime
    track: str | None
    box: tuple[float, float, float, float]
    quality: float
    template: tuple[float, ...]
    model: str
    crop_uri: str
    crop_sha256: str
