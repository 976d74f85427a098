"""The traffic store's one writer: violations and crossing counts from the bus.

A violation is qualified when it is stored — article, part, fine in MRP and tenge with the MRP
of the offence's *local* day — from the legal table, which is data. A message that cannot be
qualified (unknown camera or offence, a speed within the tolerance, a time without its zone)
is refused with a log line; the rest of the batch is kept, and a redelivered message is
stored once.

When the tracker loses a vehicle and finds it again under a new track, a rule can fire twice
for one offence. A violation whose camera, offence and plate match one already recorded within
``repeat_window_s`` is therefore stored already decided — rejected as ``duplicate`` by
``system``, naming the first — so its evidence is kept but the officer sees the offence once
and the owner is fined once. (A vehicle passes a camera once a minute at most: one red light,
one crosswalk, one speed measurement.) Violations without a plate are never merged.

A camera on a unit (a drone, a robot dog) has its violations placed on the unit's track
(``geotag``, wired to the fleet). A *speed* it measured stands only if the unit was still —
hovering or standing, no faster than ``still_camera_mps`` — at both ends of the measurement:
the camera's ground calibration holds for a still camera only, and a speed taken from a moving
one (or one whose motion is unknown) is refused with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.core.messages import utcnow
from kupol.plates.formats import PlateKind, parse_plate
from kupol.traffic.legal import LegalTable, Qualification
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from kupol.traffic.model import CrossingEvent, Violation

log = logging.getLogger(__name__)
CROSSING_KINDS = ("pedestrian", "vehicle", "near_miss", "warning_on", "warning_off")
SPEED_OFFENCES = frozenset({"speeding", "scooter_speeding", "scooter_sidewalk_speeding"})
"""Offences measured as a speed from the camera's picture."""


class MovingCameraError(InvalidInputError):
    """A speed measured by a camera on a unit that moved (or may have): expected whenever a
    drone flies with its camera on, so logged as information, not as a warning."""


@dataclass(frozen=True, kw_only=True)
class RecordStats:
    """What one batch did."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    repeats: int = 0
    """Stored as duplicates of an earlier violation (see the module's doc)."""


class ViolationRecorder:
    """Bus consumer of :class:`ViolationObserved`."""

    consumer = "traffic-violations"

    def __init__(
        self,
        *,
        db: Database,
        legal: Callable[[], LegalTable],
        known_cameras: Callable[[], set[str]],
        zone: ZoneInfo,
        repeat_window_s: float = 60.0,
        still_camera_mps: float = 1.0,
    ) -> None:
        self._db = db
        self._still_mps = still_camera_mps
        self._legal = legal
        self._known_cameras = known_cameras
        self._zone = zone
        self._repeat_window = timedelta(seconds=repeat_window_s)
        self.geotag: Callable[[str, datetime], dict[str, object] | None] | None = None
        """Where a mobile camera was (wired to the fleet): stored as ``measured["geo"]``."""

    async def handle(self, messages: Sequence[ViolationObserved]) -> None:
        """Bus handler."""
        await asyncio.to_thread(self.record, messages)

    def qualify(self, message: ViolationObserved) -> Qualification:
        """The legal qualification of one violation, on its local day.

        Raises:
            InvalidInputError: the offence is unknown, a speed is missing or not over the
                limit by more than the tolerance, or the time has no zone.
        """
        if message.occurred_at.tzinfo is None:
            raise InvalidInputError("occurred_at needs its UTC offset")
        day = message.occurred_at.astimezone(self._zone).date()
        table = self._legal()
        if message.offence == "speeding":
            speed = _number(message.measured.get("speed_kmh"), "speed_kmh")
            limit = _number(message.measured.get("limit_kmh"), "limit_kmh")
            found = table.speeding(limit_kmh=limit, measured_kmh=speed, on=day)
            if found is None:
                raise InvalidInputError(
                    f"{speed:.1f} km/h on a {limit:.0f} km/h road is within the tolerance"
                )
            return found
        return table.qualify(message.offence, on=day)

    def record(self, messages: Sequence[ViolationObserved]) -> RecordStats:
        """Store a batch of violations as pending review."""
        known = self._known_cameras()
        # A mobile camera's violation is placed on its unit's track (before the transaction:
        # the fleet writes its own).
        places: dict[object, dict[str, object] | None] = {}
        starts: dict[object, dict[str, object] | None] = {}
        if self.geotag is not None:
            for m in messages:
                places[m.id] = self.geotag(m.camera_id, m.occurred_at)
                track_s = m.measured.get("track_s")
                if (
                    places[m.id] is not None
                    and m.offence in SPEED_OFFENCES
                    and isinstance(track_s, int | float)
                    and 0 < track_s < 600
                ):
                    starts[m.id] = self.geotag(
                        m.camera_id, m.occurred_at - timedelta(seconds=float(track_s))
                    )
        stored = duplicates = refused = repeats = 0
        with self._db.unit_of_work() as session:
            ids = {str(m.id) for m in messages}
            existing = set(
                session.scalars(select(Violation.message_id).where(Violation.message_id.in_(ids)))
            )
            for message in messages:
                if str(message.id) in existing:
                    duplicates += 1
                    continue
                try:
                    if message.camera_id not in known:
                        raise InvalidInputError(f"unknown camera {message.camera_id!r}")
                    qualification = self.qualify(message)
                    if message.offence in SPEED_OFFENCES:
                        for where in (places.get(message.id), starts.get(message.id)):
                            self._check_still(where)
                except InvalidInputError as exc:
                    level = logging.INFO if isinstance(exc, MovingCameraError) else logging.WARNING
                    log.log(level, "violation %s refused: %s", message.id, exc)
                    refused += 1
                    continue
                existing.add(str(message.id))
                plate, confidence = _plate(message)
                first = self._first_of(session, message, plate)
                row = Violation(
                    message_id=str(message.id),
                    camera_id=message.camera_id,
                    offence=message.offence,
                    occurred_at=message.occurred_at,
                    plate=plate,
                    plate_confidence=confidence,
                    track=message.track,
                    measured=(
                        {**message.measured, "geo": places[message.id]}
                        if places.get(message.id) is not None
                        else dict(message.measured)
                    ),
                    evidence=[asdict(e) for e in message.evidence],
                    article=qualification.article,
                    part=qualification.part,
                    title=qualification.title,
                    fine_mrp=qualification.fine_mrp,
                    mrp_tenge=qualification.mrp_tenge,
                    fine_tenge=qualification.fine_tenge,
                    discount_share=qualification.discount_share,
                    discount_days=qualification.discount_days,
                    status="pending",
                )
                if first is not None:
                    gap = abs((message.occurred_at - first.occurred_at).total_seconds())
                    row.status, row.decided_by, row.decided_at = "rejected", "system", utcnow()
                    row.reject_reason = "duplicate"
                    row.decision_note = (
                        f"the same offence as violation {first.id} ({plate}, {gap:.0f} s apart): "
                        "merged automatically"
                    )
                    repeats += 1
                session.add(row)
                session.flush()
                stored += 1
        return RecordStats(stored=stored, duplicates=duplicates, refused=refused, repeats=repeats)

    def _check_still(self, where: dict[str, object] | None) -> None:
        """Refuse a speed measured by a camera on a unit that was moving (or not known still).

        Raises:
            MovingCameraError: the unit moved faster than ``still_camera_mps``, or its motion
                at that moment is unknown.
        """
        if where is None:  # a fixed camera
            return
        unit = where.get("unit")
        if "error" in where:
            raise MovingCameraError(
                f"a speed from the camera of {unit}, whose motion then is unknown "
                f"({where['error']}): its calibration holds for a still camera only"
            )
        speed = where.get("speed_mps")
        if not isinstance(speed, int | float):
            raise MovingCameraError(
                f"a speed from the camera of {unit}, whose own speed then is unknown"
            )
        if speed > self._still_mps:
            raise MovingCameraError(
                f"a speed from the camera of {unit} while it moved at {speed:.1f} m/s (still "
                f"is at most {self._still_mps:g} m/s): its calibration holds for a still "
                "camera only"
            )

    def _first_of(
        self, session: Session, message: ViolationObserved, plate: str | None
    ) -> Violation | None:
        """The violation already recorded that ``message`` repeats, if any."""
        if plate is None or not self._repeat_window:
            return None
        return session.scalars(
            select(Violation)
            .where(
                Violation.camera_id == message.camera_id,
                Violation.offence == message.offence,
                Violation.plate == plate,
                Violation.occurred_at >= message.occurred_at - self._repeat_window,
                Violation.occurred_at <= message.occurred_at + self._repeat_window,
                Violation.reject_reason.is_distinct_from("duplicate"),
            )
            .order_by(Violation.occurred_at, Violation.id)
            .limit(1)
        ).first()


class CrossingRecorder:
    """Bus consumer of :class:`CrossingActivity`: the crossings' dashboard counts."""

    consumer = "traffic-crossings"

    def __init__(self, *, db: Database, known_cameras: Callable[[], set[str]]) -> None:
        self._db = db
        self._known_cameras = known_cameras

    async def handle(self, messages: Sequence[CrossingActivity]) -> None:
        """Bus handler."""
        await asyncio.to_thread(self.record, messages)

    def record(self, messages: Sequence[CrossingActivity]) -> RecordStats:
        """Store a batch; bad ones are refused with a log line, the rest kept."""
        known = self._known_cameras()
        stored = duplicates = refused = 0
        with self._db.unit_of_work() as session:
            ids = {str(m.id) for m in messages}
            existing = set(
                session.scalars(
                    select(CrossingEvent.message_id).where(CrossingEvent.message_id.in_(ids))
                )
            )
            for message in messages:
                problem = None
                if message.camera_id not in known:
                    problem = f"unknown camera {message.camera_id!r}"
                elif message.activity not in CROSSING_KINDS:
                    problem = f"unknown activity {message.activity!r}"
                elif message.at.tzinfo is None:
                    problem = "time without its UTC offset"
                elif message.value is not None and not math.isfinite(message.value):
                    problem = "value is not a finite number"
                if problem:
                    log.warning("crossing activity %s refused: %s", message.id, problem)
                    refused += 1
                    continue
                if str(message.id) in existing:
                    duplicates += 1
                    continue
                existing.add(str(message.id))
                session.add(
                    CrossingEvent(
                        message_id=str(message.id),
                        crossing_id=message.crossing_id,
                        camera_id=message.camera_id,
                        kind=message.activity,
                        at=message.at,
                        value=message.value,
                    )
                )
                stored += 1
        return RecordStats(stored=stored, duplicates=duplicates, refused=refused)


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"measured {name} must be a finite number")
    return float(value)


def _plate(message: ViolationObserved) -> tuple[str | None, float | None]:
    """The violation's plate, normalised, or none when what came is no plate (the officer
    reads it from the evidence)."""
    if not message.plate:
        return None, None
    reading = parse_plate(message.plate)
    if reading.kind == PlateKind.INVALID:
        return None, None
    confidence = message.plate_confidence
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        confidence = None
    return reading.text, confidence
