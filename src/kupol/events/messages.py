"""Bus messages of the events domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from kupol.core.messages import Event


@dataclass(frozen=True, kw_only=True)
class EvidenceRef:
    """A file that backs an event up: where it is and its SHA-256 for integrity."""

    kind: str
    uri: str
    sha256: str
    media_type: str = "application/octet-stream"


@dataclass(frozen=True, kw_only=True)
class CameraEventObserved(Event):
    """A source saw something. Its ``id`` is the event's id from then on (idempotency key)."""

    camera_id: str
    type: str
    occurred_at: datetime
    confidence: float
    zone: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceRef, ...] = ()
    subject: str | None = None
    """What the event is about, where it names one thing (``plate:123ABC02``, a face hit):
    alerts gather only events about the same subject, so a second wanted car at a camera
    raises an alert of its own."""


@dataclass(frozen=True, kw_only=True)
class RecordedEvent:
    """The gist of one stored event, for live feeds."""

    event_id: UUID
    camera_id: str
    type: str
    occurred_at: datetime
    confidence: float
    zone: str | None = None


@dataclass(frozen=True, kw_only=True)
class CameraEventsRecorded(Event):
    """A batch of observed events was stored (one message per committed batch)."""

    events: tuple[RecordedEvent, ...]
