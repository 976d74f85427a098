"""The sightings store's one writer: plate reads from the bus into ``plate_sightings``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from kupol.cameras.model import Camera
from kupol.core.db import Database
from kupol.core.outbox import OutboxRelay
from kupol.events.messages import CameraEventObserved
from kupol.plates.cloned import Sighting, implausible
from kupol.plates.formats import PlateKind, parse_plate
from kupol.plates.hotlists import HotlistMatcher
from kupol.plates.messages import PlateObserved
from kupol.plates.model import PlateSighting

log = logging.getLogger(__name__)
HOTLIST_HIT = "plate_hotlist_hit"
CLONED_PLATE = "possible_cloned_plate"


@dataclass(frozen=True, kw_only=True)
class StoreStats:
    """What one batch did."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    events: tuple[CameraEventObserved, ...] = ()
    """Hotlist hits and possible cloned plates raised (already in the outbox)."""


class PlateStore:
    """Bus consumer of :class:`PlateObserved`."""

    consumer = "plates-store"

    def __init__(
        self,
        *,
        db: Database,
        known_cameras: Callable[[], set[str]],
        outbox: OutboxRelay,
        hotlists: HotlistMatcher,
        max_speed_kmh: float = 200.0,
    ) -> None:
        self._db = db
        self._known_cameras = known_cameras
        self._outbox = outbox
        self._hotlists = hotlists
        self._max_speed = max_speed_kmh
        self._cameras: set[str] = set()

    async def handle(self, messages: Sequence[PlateObserved]) -> None:
        """Bus handler: store, then publish the alerts' events at once."""
        stats = await asyncio.to_thread(self.record, messages)
        await self._outbox.publish_now(stats.events)

    def record(self, messages: Sequence[PlateObserved]) -> StoreStats:
        """Store a batch; a read that is no plate, or of an unknown camera, is refused with a
        log line and the rest are kept."""
        if not {m.camera_id for m in messages} <= self._cameras:  # asked again only then
            self._cameras = self._known_cameras()
        known = self._cameras
        refused = 0
        sightings: dict[str, PlateSighting] = {}
        for message in messages:
            reading = parse_plate(message.plate)
            problem = None
            if message.camera_id not in known:
                problem = f"unknown camera {message.camera_id!r}"
            elif reading.kind == PlateKind.INVALID:
                problem = f"{message.plate!r} is not a plate"
            elif not 0.0 <= message.confidence <= 1.0:
                problem = f"confidence {message.confidence} outside 0..1"
            if problem:
                log.warning("plate read refused: %s", problem)
                refused += 1
                continue
            sightings.setdefault(
                str(message.id),
                PlateSighting(
                    message_id=str(message.id),
                    camera_id=message.camera_id,
                    plate=reading.text,
                    kind=reading.kind.value,
                    region=reading.region.code if reading.region else None,
                    seen_at=message.seen_at,
                    confidence=message.confidence,
                    direction=message.direction,
                    vehicle_class=message.vehicle_class,
                    vehicle_colour=message.vehicle_colour,
                    track=message.track,
                    crop_uri=message.crop_uri,
                    crop_sha256=message.crop_sha256,
                ),
            )
        with self._db.unit_of_work() as session:
            added = _store_new(session, list(sightings.values()))
            events = self._alerts(session, added)
            self._outbox.add(session, events)
        return StoreStats(
            stored=len(added),
            duplicates=len(messages) - refused - len(added),
            refused=refused,
            events=tuple(events),
        )

    def _alerts(
        self, session: Session, sightings: Sequence[PlateSighting]
    ) -> list[CameraEventObserved]:
        """Events for hotlist hits and for plates that could not have driven where they were
        seen, for a batch of just-flushed sightings (three queries for the whole batch)."""
        if not sightings:
            return []
        earlier = aliased(PlateSighting)
        previous_id = (
            select(earlier.id)
            .where(
                earlier.plate == PlateSighting.plate,
                or_(
                    earlier.seen_at < PlateSighting.seen_at,
                    and_(earlier.seen_at == PlateSighting.seen_at, earlier.id < PlateSighting.id),
                ),
            )
            .order_by(earlier.seen_at.desc(), earlier.id.desc())
            .limit(1)
            .correlate(PlateSighting)
            .scalar_subquery()
        )
        previous_of = {
            new_id: old_id
            for new_id, old_id in session.execute(
                select(PlateSighting.id, previous_id).where(
                    PlateSighting.id.in_([s.id for s in sightings])
                )
            )
            if old_id is not None
        }
        before_by_id = {
            s.id: s
            for s in session.scalars(
                select(PlateSighting).where(PlateSighting.id.in_(set(previous_of.values())))
            )
        }
        camera_ids = {s.camera_id for s in sightings} | {s.camera_id for s in before_by_id.values()}
        cameras = {
            c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_(camera_ids)))
        }
        events: list[CameraEventObserved] = []
        for sighting in sightings:
            events.extend(self._hotlist_hits(sighting))
            before = before_by_id.get(previous_of.get(sighting.id, -1))
            if before is not None:
                cloned = self._cloned(before, sighting, cameras)
                if cloned is not None:
                    events.append(cloned)
        return events

    def _hotlist_hits(self, sighting: PlateSighting) -> list[CameraEventObserved]:
        return [
            CameraEventObserved(
                camera_id=sighting.camera_id,
                type=HOTLIST_HIT,
                occurred_at=sighting.seen_at,
                confidence=sighting.confidence if hit.exact else sighting.confidence * 0.8,
                zone=None,
                payload={
                    "plate": sighting.plate,
                    "listed_plate": hit.listed_plate,
                    "exact": hit.exact,
                    "hotlist": hit.hotlist,
                    "hotlist_kind": hit.kind,
                    "entry_id": hit.entry_id,
                    "sighting_id": sighting.id,
                },
            )
            for hit in self._hotlists.hits(sighting.plate)
        ]

    def _cloned(
        self, before: PlateSighting, sighting: PlateSighting, cameras: dict[str, Camera]
    ) -> CameraEventObserved | None:
        """A possible cloned plate: ``sighting`` too far from ``before`` for the time between."""
        camera, before_camera = cameras.get(sighting.camera_id), cameras.get(before.camera_id)
        if camera is None or before_camera is None:
            return None
        suspicion = implausible(
            _placed(before, before_camera), _placed(sighting, camera), max_speed_kmh=self._max_speed
        )
        if suspicion is None:
            return None
        return CameraEventObserved(
            camera_id=sighting.camera_id,
            type=CLONED_PLATE,
            occurred_at=sighting.seen_at,
            confidence=min(1.0, sighting.confidence, before.confidence),
            zone=None,
            payload={
                "plate": sighting.plate,
                "sighting_ids": [before.id, sighting.id],
                "from_camera": before.camera_id,
                "distance_km": round(suspicion.distance_km, 2),
                "minutes": round(suspicion.hours * 60, 1),
                "needed_speed_kmh": round(suspicion.needed_speed_kmh, 1),
            },
        )


# PostgreSQL: the batch in one statement with one parameter, a JSON array of the rows (as the
# event recorder does), prepared once per connection by psycopg, a redelivered message skipped
# by the unique message id. The ORM's multi-row INSERT it replaced sent, and made the driver
# parse, a statement of 13 placeholders per sighting, after a query for the message ids
# already stored (bench/load.py).
_PG_INSERT_NEW = (
    "INSERT INTO plate_sightings (message_id, camera_id, plate, kind, region, seen_at, "
    "confidence, direction, vehicle_class, vehicle_colour, track, crop_uri, crop_sha256) "
    "SELECT * FROM json_to_recordset(%s::json) AS u(message_id varchar, camera_id varchar, "
    "plate varchar, kind varchar, region varchar, seen_at timestamptz, confidence float8, "
    "direction varchar, vehicle_class varchar, vehicle_colour varchar, track varchar, "
    "crop_uri varchar, crop_sha256 varchar) "
    "ON CONFLICT DO NOTHING RETURNING id, message_id"
)
_COLUMNS = (
    "message_id", "camera_id", "plate", "kind", "region", "confidence", "direction",
    "vehicle_class", "vehicle_colour", "track", "crop_uri", "crop_sha256",
)  # fmt: skip


def _store_new(session: Session, sightings: list[PlateSighting]) -> list[PlateSighting]:
    """Insert the sightings whose message was not stored before; return them with their ids."""
    if not sightings:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        if any(s.seen_at.tzinfo is None for s in sightings):  # as the ORM's UTCDateTime refuses
            raise ValueError("a plate read's seen_at has no time zone; producers must send UTC")
        rows = [
            {"seen_at": s.seen_at.isoformat(), **{c: getattr(s, c) for c in _COLUMNS}}
            for s in sightings
        ]
        result = connection.exec_driver_sql(_PG_INSERT_NEW, (json.dumps(rows),))
        ids = {message: key for key, message in result}
        fresh = [s for s in sightings if s.message_id in ids]
        for sighting in fresh:
            sighting.id = ids[sighting.message_id]
        return fresh
    # Elsewhere (SQLite: write transactions are serial) a select, then the ORM's insert.
    existing = set(
        session.scalars(
            select(PlateSighting.message_id).where(
                PlateSighting.message_id.in_([s.message_id for s in sightings])
            )
        )
    )
    fresh = [s for s in sightings if s.message_id not in existing]
    session.add_all(fresh)
    session.flush()
    return fresh


def _placed(sighting: PlateSighting, camera: Camera) -> Sighting:
    """A stored sighting at its camera's place, as the cloned-plate check takes it."""
    return Sighting(
        plate=sighting.plate,
        camera_id=sighting.camera_id,
        latitude=camera.latitude,
        longitude=camera.longitude,
        at=sighting.seen_at,
    )
