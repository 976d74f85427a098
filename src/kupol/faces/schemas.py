"""What the faces API and CLI take and return: validated at the edge, typed inside."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.faces.model import HitStatus, WatchlistKind


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WatchlistCreate(_In):
    name: str = Field(min_length=2, max_length=200)
    kind: WatchlistKind
    description: str = Field("", max_length=2000)
    threshold: float | None = Field(
        None, gt=0, lt=1, description="Cosine similarity of a hit; default from settings."
    )


class WatchlistUpdate(_In):
    description: str | None = Field(None, max_length=2000)
    threshold: float | None = Field(None, gt=0, lt=1)
    active: bool | None = None


class WatchlistRead(_Out):
    id: int
    name: str
    kind: str
    description: str
    threshold: float
    active: bool
    owner: str
    created_at: datetime
    updated_at: datetime
    persons: int = 0


class PersonCreate(_In):
    name: str = Field(min_length=2, max_length=200)
    reason: str = Field(min_length=5, max_length=2000, description="Why this person is listed.")
    reference: str | None = Field(
        None, max_length=120, description="Case, warrant or missing-person report number."
    )
    expires_at: AwareDatetime | None = Field(
        None,
        description="After this the person is no longer matched (required for banned); "
        "with its UTC offset.",
    )


class PersonUpdate(_In):
    reason: str | None = Field(None, min_length=5, max_length=2000)
    reference: str | None = Field(None, max_length=120)
    expires_at: AwareDatetime | None = None
    active: bool | None = None


class PhotoRead(_Out):
    id: int
    person_id: int
    sha256: str
    model: str
    quality: float
    box: list[float]
    added_by: str
    created_at: datetime


class PersonRead(_Out):
    id: int
    watchlist_id: int
    name: str
    reason: str
    reference: str | None
    expires_at: datetime | None
    active: bool
    added_by: str
    created_at: datetime
    photos: list[PhotoRead] = []


class HitRead(_Out):
    id: int
    camera_id: str
    watchlist_id: int
    watchlist: str = ""
    person_id: int
    person: str = ""
    photo_id: int
    track: str | None
    similarity: float
    threshold: float
    first_seen_at: datetime
    last_seen_at: datetime
    sightings: int
    event_id: str | None
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class HitDecision(_In):
    status: HitStatus = Field(description="confirmed or rejected")
    note: str = Field(min_length=3, max_length=2000, description="What the operator saw.")


class SightingRead(BaseModel):
    id: int
    camera_id: str
    camera_name: str
    latitude: float
    longitude: float
    seen_at: datetime
    similarity: float
    quality: float
    track: str | None
    box: list[float]


class SearchResult(BaseModel):
    case_number: str
    probe_quality: float
    searched_since: datetime
    min_similarity: float
    sightings: list[SightingRead]


class ThresholdBand(BaseModel):
    low: float
    high: float
    confirmed: int
    rejected: int


class ThresholdReport(BaseModel):
    watchlist_id: int
    threshold: float
    decided: int
    confirmed: int
    rejected: int
    bands: list[ThresholdBand]
    suggested_threshold: float | None = Field(
        description=(
            "Lowest similarity at which no rejected hit was above it among decided hits "
            "(needs at least 10 decisions); a suggestion for a human, never applied."
        )
    )
