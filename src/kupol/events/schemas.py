"""Event API shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kupol.cameras.schemas import CameraId
from kupol.core.messages import uuid7

EVENT_TYPE = r"^[a-z][a-z0-9_.-]{1,63}$"
MAX_FUTURE = timedelta(minutes=5)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32)
    uri: str = Field(min_length=1, max_length=1000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    media_type: Literal[
        "image/jpeg",
        "image/png",
        "video/mp4",
        "video/x-matroska",
        "audio/wav",
        "audio/mpeg",
        "application/pdf",
        "application/json",
        "application/octet-stream",
    ] = Field("application/octet-stream", description="Only media types safe to serve back.")


class CameraEventIn(BaseModel):
    """An event as a device or edge box submits it."""

    model_config = ConfigDict(extra="forbid")

    id: UUID = Field(default_factory=uuid7, description="Give your own id to retry safely.")
    camera_id: CameraId
    type: str = Field(pattern=EVENT_TYPE, examples=["motion"])
    occurred_at: datetime
    confidence: float = Field(ge=0.0, le=1.0)
    zone: str | None = Field(None, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=16)

    @field_validator("occurred_at")
    @classmethod
    def _aware_and_not_future(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone (e.g. 2026-01-31T12:00:00+05:00)")
        if value - datetime.now(UTC) > MAX_FUTURE:
            raise ValueError("occurred_at is in the future; check the device clock")
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01 east of Greenwich: before the first day in UTC
            raise ValueError("occurred_at is out of range") from None

    @field_validator("payload")
    @classmethod
    def _small_payload(cls, value: dict[str, Any]) -> dict[str, Any]:
        import json

        if len(json.dumps(value, default=str)) > 64_000:
            raise ValueError("payload is larger than 64 kB; put large data in evidence files")
        return value


class CameraEventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[CameraEventIn] = Field(min_length=1, max_length=1000)


class IngestReceipt(BaseModel):
    accepted: int
    ids: list[UUID]


class CameraEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    camera_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    confidence: float
    zone: str | None
    payload: dict[str, Any]
    evidence: list[dict[str, Any]]
