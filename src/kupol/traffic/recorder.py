"""The traffic store's one writer: violations and crossing counts from the bus.

A violation is qualified when it is stored — article, part, fine in MRP and tenge with the MRP
of the offence's *local* day — from the legal table, which is data. A message that cannot be
qualified (unknown camera or offence, a speed within the tolerance, a time without its zone)
is refused with a log line; the rest of the batch is kept, and a redelivered message is
stored once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.plates.formats import PlateKind, parse_plate
from kupol.traffic.legal import LegalTable, Qualification
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from kupol.traffic.model import CrossingEvent, Violation

log = logging.getLogger(__name__)
CROSSING_KINDS = ("pedestrian", "vehicle", "near_miss", "warning_on", "warning_off")


@dataclass(frozen=True, kw_only=True)
class RecordStats:
    """What one batch did."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0


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
    ) -> None:
        self._db = db
        self._legal = legal
        self._known_cameras = known_cameras
        self._zone = zone

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
        stored = duplicates = refused = 0
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
                except InvalidInputError as exc:
                    log.warning("violation %s refused: %s", message.id, exc)
                    refused += 1
                    continue
                existing.add(str(message.id))
                plate, confidence = _plate(message)
                session.add(
                    Violation(
                        message_id=str(message.id),
                        camera_id=message.camera_id,
                        offence=message.offence,
                        occurred_at=message.occurred_at,
                        plate=plate,
                        plate_confidence=confidence,
                        track=message.track,
                        measured=dict(message.measured),
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
                )
                stored += 1
        return RecordStats(stored=stored, duplicates=duplicates, refused=refused)


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
