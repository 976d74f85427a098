"""Bus messages of the traffic domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kupol.core.messages import Event
from kupol.events.messages import EvidenceRef


@dataclass(frozen=True, kw_only=True)
class ViolationObserved(Event):
    """A camera (or the sections job) found a traffic violation.

    It carries what was measured, not the fine: the legal table qualifies it when it is
    stored, with the MRP of the offence's local day. Its ``id`` is the idempotency key.
    """

    camera_id: str
    offence: str
    """speeding, red_light, failing_to_yield_to_pedestrian, scooter_… (the legal table's
    offence names)."""
    occurred_at: datetime
    plate: str | None = None
    plate_confidence: float | None = None
    track: str | None = None
    """The vehicle's track key: its plate sighting is found by it when no plate came along."""
    measured: dict[str, Any] = field(default_factory=dict)
    """What the rule measured: speed_kmh and limit_kmh, red_for_s, gap_m …"""
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CrossingActivity(Event):
    """A smart crossing counted something: a pedestrian or vehicle that used it, a near miss,
    or its warning device switched (``value``: near miss gap in s, activation latency in ms)."""

    camera_id: str
    crossing_id: str
    activity: str
    """pedestrian, vehicle, near_miss, warning_on or warning_off."""
    at: datetime
    value: float | None = None
