"""Average-speed sections: a plate read at an entry camera and again at an exit camera a known
road distance on, and the average speed between the two reads.

The passages come from the plate sightings store (:mod:`kupol.plates`); a section pairs each
exit passage of a plate with that plate's latest entry passage before it, so a vehicle that
drives the section twice makes two trips. Pairs are not made across more than ``max_minutes``
(a vehicle that stopped on the way is not "slow", it is another trip), and only from reads at
least ``min_confidence`` sure: a misread plate would fine someone else.

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> section = SpeedSection(id="a2-km12", entry_camera="a2-in", exit_camera="a2-out",
    ...                        length_m=5000, limit_kmh=90)
    >>> t = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    >>> passages = [Passage(plate="123ABC02", camera_id="a2-in", at=t, confidence=0.97),
    ...             Passage(plate="123ABC02", camera_id="a2-out", at=t + timedelta(minutes=2.5),
    ...                     confidence=0.95)]
    >>> [round(trip.average_kmh) for trip in section_trips(section, passages)]
    [120]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kupol.core.errors import InvalidInputError
from kupol.traffic.legal import LegalTable, Qualification


@dataclass(frozen=True, kw_only=True)
class SpeedSection:
    """A stretch of road between two plate cameras.

    Attributes:
        id: The section's name.
        entry_camera, exit_camera: Cameras at its start and end, in the direction of travel.
        length_m: Road distance between them (along the road, not the straight line).
        limit_kmh: Speed limit over the whole section.
        max_minutes: Reads further apart than this are not one trip.
    """

    id: str
    entry_camera: str
    exit_camera: str
    length_m: float
    limit_kmh: float
    max_minutes: float = 60.0

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.length_m, self.limit_kmh, self.max_minutes)):
            raise InvalidInputError(
                f"section {self.id}: length, limit and max_minutes must be finite"
            )
        if self.entry_camera == self.exit_camera:
            raise InvalidInputError(f"section {self.id}: entry and exit must be two cameras")
        if not (self.length_m > 0 and self.limit_kmh > 0 and self.max_minutes > 0):
            raise InvalidInputError(
                f"section {self.id}: length, limit and max_minutes must be positive"
            )


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A plate read by a camera at a time (a sighting)."""

    plate: str
    camera_id: str
    at: datetime
    confidence: float


@dataclass(frozen=True, kw_only=True)
class SectionTrip:
    """One drive through a section."""

    section_id: str
    plate: str
    entered: Passage
    left: Passage
    seconds: float
    average_kmh: float


@dataclass(frozen=True, kw_only=True)
class SectionViolation:
    """A trip faster on average than the limit allows, and its legal qualification."""

    trip: SectionTrip
    qualification: Qualification


def section_trips(
    section: SpeedSection, passages: Sequence[Passage], *, min_confidence: float = 0.8
) -> list[SectionTrip]:
    """The trips through ``section`` that ``passages`` (any cameras, any order) make.

    Raises:
        InvalidInputError: A passage's time has no time zone.
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise InvalidInputError("min_confidence must lie in 0..1")
    if any(p.at.tzinfo is None for p in passages):
        raise InvalidInputError("passage times must carry a time zone")
    if any(not 0.0 <= p.confidence <= 1.0 for p in passages):
        raise InvalidInputError("passage confidences must lie in 0..1")
    ours = sorted(
        (
            p
            for p in passages
            if p.camera_id in (section.entry_camera, section.exit_camera)
            and p.confidence >= min_confidence
        ),
        key=lambda p: p.at,
    )
    open_entries: dict[str, Passage] = {}
    trips: list[SectionTrip] = []
    for passage in ours:
        if passage.camera_id == section.entry_camera:
            open_entries[passage.plate] = passage  # the latest entry counts
            continue
        entered = open_entries.pop(passage.plate, None)
        if entered is None:
            continue
        seconds = (passage.at - entered.at).total_seconds()
        if seconds <= 0 or seconds > section.max_minutes * 60:
            continue
        trips.append(
            SectionTrip(
                section_id=section.id,
                plate=passage.plate,
                entered=entered,
                left=passage,
                seconds=seconds,
                average_kmh=section.length_m / seconds * 3.6,
            )
        )
    return trips


def section_violations(
    section: SpeedSection,
    passages: Sequence[Passage],
    legal: LegalTable,
    *,
    min_confidence: float = 0.8,
    zone: str = "Asia/Almaty",
) -> list[SectionViolation]:
    """The trips through ``section`` whose average speed is an offence under art. 592 (as the
    legal table grades it), on the local day (in ``zone``) the vehicle left the section —
    sightings are kept in UTC, and 00:00–05:00 in Kazakhstan is the day before in UTC, which
    on New Year's night would apply the old year's MRP.

    Raises:
        InvalidInputError: ``zone`` is not a known time zone.
    """
    try:
        local = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"unknown time zone {zone!r}") from exc
    found = []
    for trip in section_trips(section, passages, min_confidence=min_confidence):
        qualification = legal.speeding(
            limit_kmh=section.limit_kmh,
            measured_kmh=trip.average_kmh,
            on=trip.left.at.astimezone(local).date(),
        )
        if qualification is not None:
            found.append(SectionViolation(trip=trip, qualification=qualification))
    return found
