"""The average-speed sections' job: every minute, the new plate sightings at each section's
exit camera are paired with the same plates' entries (:func:`kupol.traffic.sections.
section_trips`), and a trip faster on average than the limit plus the tolerance goes to the
review queue as a speeding violation, with both plate crops as its evidence.

The job keeps no state of its own that matters: each trip's message id is derived from the
section and the two sightings, so a window that overlaps the last one, or a restart, never
reports a trip twice (the recorder stores a message id once).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from kupol.core.db import Database
from kupol.core.messages import utcnow
from kupol.events.messages import EvidenceRef
from kupol.plates.model import PlateSighting
from kupol.settings import SectionSettings
from kupol.traffic.messages import ViolationObserved
from kupol.traffic.sections import Passage, SpeedSection, section_trips

NAMESPACE = uuid.UUID("6b75706f-6c00-5ec7-9000-000000000000")
LOOKBACK = timedelta(hours=2)
"""How far back the first run after a start looks (a restart does not lose trips)."""
OVERLAP = timedelta(minutes=15)
"""Each run looks this far behind the last one's end too: a sighting is stored after its
vehicle's track ends and passes the bus, so it can arrive after the run that covered its time."""


class SectionJob:
    """Pairs sightings into trips and reports the fast ones."""

    def __init__(
        self,
        *,
        db: Database,
        sections: Sequence[SectionSettings],
        tolerance_kmh: float = 10.0,
        min_confidence: float = 0.8,
    ) -> None:
        self._db = db
        self._sections = [
            SpeedSection(
                id=s.id,
                entry_camera=s.entry_camera,
                exit_camera=s.exit_camera,
                length_m=s.length_m,
                limit_kmh=s.limit_kmh,
                max_minutes=s.max_minutes,
            )
            for s in sections
        ]
        self._tolerance = tolerance_kmh
        self._min_confidence = min_confidence
        self._since: datetime | None = None

    def run_once(self, *, until: datetime | None = None) -> list[ViolationObserved]:
        """Violations among the trips that left a section since the last committed run
        (less :data:`OVERLAP`; reporting a trip again is harmless, its id is the same).
        Call :meth:`commit` with the same ``until`` once they are published."""
        end = until or utcnow()
        start = (self._since or end - LOOKBACK) - OVERLAP
        found: list[ViolationObserved] = []
        for section in self._sections:
            found.extend(self._section(section, start, end))
        return found

    def commit(self, until: datetime) -> None:
        """The run up to ``until`` is published: the next one starts from there."""
        self._since = until

    def _section(
        self, section: SpeedSection, start: datetime, end: datetime
    ) -> list[ViolationObserved]:
        earliest = start - timedelta(minutes=section.max_minutes)
        with self._db.reader() as session:
            rows = list(
                session.scalars(
                    select(PlateSighting)
                    .where(
                        PlateSighting.camera_id.in_([section.entry_camera, section.exit_camera]),
                        PlateSighting.seen_at >= earliest,
                        PlateSighting.seen_at <= end,
                    )
                    .order_by(PlateSighting.seen_at, PlateSighting.id)
                )
            )
        by_passage: dict[int, PlateSighting] = {}
        passages = []
        for row in rows:
            passage = Passage(
                plate=row.plate, camera_id=row.camera_id, at=row.seen_at, confidence=row.confidence
            )
            by_passage[id(passage)] = row
            passages.append(passage)
        found = []
        for trip in section_trips(section, passages, min_confidence=self._min_confidence):
            if trip.left.at <= start or trip.average_kmh <= section.limit_kmh + self._tolerance:
                continue
            entered, left = by_passage[id(trip.entered)], by_passage[id(trip.left)]
            found.append(
                ViolationObserved(
                    id=uuid.uuid5(NAMESPACE, f"{section.id}/{entered.id}/{left.id}"),
                    camera_id=section.exit_camera,
                    offence="speeding",
                    occurred_at=left.seen_at,
                    plate=trip.plate,
                    plate_confidence=min(entered.confidence, left.confidence),
                    track=left.track,
                    measured={
                        "speed_kmh": round(trip.average_kmh, 1),
                        "limit_kmh": section.limit_kmh,
                        "section": section.id,
                        "length_m": section.length_m,
                        "seconds": round(trip.seconds, 1),
                        "entry_camera": section.entry_camera,
                        "entered_at": entered.seen_at.isoformat(),
                    },
                    evidence=tuple(
                        EvidenceRef(
                            kind=kind,
                            uri=row.crop_uri,
                            sha256=row.crop_sha256,
                            media_type="image/jpeg",
                        )
                        for kind, row in (("plate_entry", entered), ("plate_exit", left))
                        if row.crop_uri and row.crop_sha256
                    ),
                )
            )
        return found
