"""The sightings store's one writer: plate reads from the bus into ``plate_sightings``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, aliased

from kupol.cameras.model import Camera
from kupol.core.db import Database
from kupol.core.outbox import OutboxRelay
from kupol.events.messages import CameraEventObserved
from kupol.plates.cloned import ClonePolicy, Sighting
from kupol.plates.formats import PlateKind, parse_plate
from kupol.plates.hotlists import HotlistMatcher
from kupol.plates.messages import PlateObserved
from kupol.plates.model import KnownPlate, PlateSighting, one_of

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
        clones: ClonePolicy | None = None,
    ) -> None:
        self._db = db
        self._known_cameras = known_cameras
        self._outbox = outbox
        self._hotlists = hotlists
        self._clones = clones or ClonePolicy()
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
        sightings: dict[str, Read] = {}
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
                Read(
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
            _remember(session, added)
            self._outbox.add(session, events)
        return StoreStats(
            stored=len(added),
            duplicates=len(messages) - refused - len(added),
            refused=refused,
            events=tuple(events),
        )

    def _alerts(self, session: Session, sightings: Sequence[Read]) -> list[CameraEventObserved]:
        """Events for hotlist hits and for plates that could not have driven where they were
        seen, for a batch of just-stored sightings (two queries for the whole batch)."""
        if not sightings:
            return []
        before_of = _previous(session, sightings)
        camera_ids = {s.camera_id for s in sightings} | {s.camera_id for s in before_of.values()}
        # Only the places: loading ~200 cameras as ORM objects for every batch cost a fifth
        # of the plate store's CPU under load (py-spy, bench/load.py at 20,000 events/s).
        found = session.execute(
            select(Camera.id, Camera.latitude, Camera.longitude).where(Camera.id.in_(camera_ids))
        )
        cameras = {id_: _Place(latitude, longitude) for id_, latitude, longitude in found}
        events: list[CameraEventObserved] = []
        for sighting in sightings:
            events.extend(self._hotlist_hits(sighting))
            before = before_of.get(sighting.id)
            if before is not None:
                cloned = self._cloned(before, sighting, cameras)
                if cloned is not None:
                    events.append(cloned)
        return events

    def _hotlist_hits(self, sighting: Read) -> list[CameraEventObserved]:
        return [
            CameraEventObserved(
                camera_id=sighting.camera_id,
                type=HOTLIST_HIT,
                subject=f"plate:{sighting.plate}",
                occurred_at=sighting.seen_at,
                confidence=sighting.confidence if hit.exact else sighting.confidence * 0.8,
                zone=None,
                payload={
                    "plate": sighting.plate,
                    "listed_plate": hit.listed_plate,
                    "exact": hit.exact,
                    "hotlist": hit.hotlist,
                    "hotlist_kind": hit.kind,
                    "entry_id": hit.entry_id,  # why it is wanted: the entry, for field roles
                    "sighting_id": sighting.id,
                },
            )
            for hit in self._hotlists.hits(sighting.plate, sighting.seen_at)
        ]

    def _cloned(
        self, before: Seen, sighting: Read, cameras: dict[str, _Place]
    ) -> CameraEventObserved | None:
        """A possible cloned plate: ``sighting`` too far from ``before`` for the time between."""
        camera, before_camera = cameras.get(sighting.camera_id), cameras.get(before.camera_id)
        if camera is None or before_camera is None:
            return None
        suspicion = self._clones.judge(_placed(before, before_camera), _placed(sighting, camera))
        if suspicion is None:
            return None
        return CameraEventObserved(
            camera_id=sighting.camera_id,
            type=CLONED_PLATE,
            subject=f"plate:{sighting.plate}",
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

# PostgreSQL: each new sighting's previous one of its plate (the one just before it in time,
# ties broken by id), for the whole batch in one statement of one JSON parameter (psycopg
# builds array parameters in Python: four arrays of 500 took 3.7 ms of the store's CPU, the
# JSON 1.5). Each look-up is one backward step of the (plate, seen_at) index of each
# partition. The query before the arrays sent every id twice as placeholders (two statements
# psycopg could not prepare, 1.7 ms each to convert) and made ORM objects of the rows.
_PG_PREVIOUS = (
    "SELECT n.id, p.id, p.camera_id, p.plate, p.seen_at, p.confidence "
    "FROM json_to_recordset(%s::json) "
    "AS n(id bigint, plate varchar, seen_at timestamptz, since timestamptz) "
    "CROSS JOIN LATERAL (SELECT e.id, e.camera_id, e.plate, e.seen_at, e.confidence "
    "FROM plate_sightings e WHERE e.plate = n.plate AND e.seen_at >= n.since "
    "AND (e.seen_at < n.seen_at OR (e.seen_at = n.seen_at AND e.id < n.id)) "
    "ORDER BY e.seen_at DESC, e.id DESC LIMIT 1) p"
)

# PostgreSQL: the batch's plates into the directory of plates seen (kupol.plates.model.
# KnownPlate), one row per plate in plate order (two stores' batches lock shared plates in the
# same order: no deadlock; the rows of a JSON array come in its order), a row left alone where
# its times already cover the batch's.
_PG_REMEMBER = (
    "INSERT INTO known_plates (plate, first_seen_at, last_seen_at) "
    "SELECT * FROM json_to_recordset(%s::json) "
    "AS u(plate varchar, first_seen_at timestamptz, last_seen_at timestamptz) "
    "ON CONFLICT (plate) DO UPDATE SET "
    "first_seen_at = least(known_plates.first_seen_at, excluded.first_seen_at), "
    "last_seen_at = greatest(known_plates.last_seen_at, excluded.last_seen_at) "
    "WHERE excluded.first_seen_at < known_plates.first_seen_at "
    "OR excluded.last_seen_at > known_plates.last_seen_at"
)


@dataclass(slots=True, kw_only=True)
class Read:
    """A plate read about to be stored, then stored (``id`` set): the store works on these,
    not on ORM objects (those, with the look-up below, were about half its CPU a read)."""

    message_id: str
    camera_id: str
    plate: str
    kind: str
    region: str | None
    seen_at: datetime
    confidence: float
    direction: str | None
    vehicle_class: str | None
    vehicle_colour: str | None
    track: str | None
    crop_uri: str | None
    crop_sha256: str | None
    id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """A stored sighting as the cloned-plate check reads it."""

    id: int
    camera_id: str
    plate: str
    seen_at: datetime
    confidence: float


def _store_new(session: Session, sightings: list[Read]) -> list[Read]:
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
    stored = [PlateSighting(**{c: getattr(s, c) for c in (*_COLUMNS, "seen_at")}) for s in fresh]
    session.add_all(stored)
    session.flush()
    for sighting, row in zip(fresh, stored, strict=True):
        sighting.id = row.id
    return fresh


def _seen_since(session: Session, sightings: Sequence[Read]) -> dict[int, datetime]:
    """For each new sighting (by id) that may have an earlier one of its plate: a time that
    earlier sighting is no older than.

    From the directory of plates seen, read before the batch is added to it: a sighting later
    than its plate's last one has that one before it (the common case: the look-up then opens
    only the partition of that time, not every month's); an older one has its plate's first
    sighting as the bound. And from the batch itself: a sighting of the same plate just before
    in time. A plate in neither — a first sighting — has nothing before it to look for.
    """
    dialect = session.connection().dialect.name
    known = {
        plate: (first, last)
        for plate, first, last in session.execute(
            select(KnownPlate.plate, KnownPlate.first_seen_at, KnownPlate.last_seen_at).where(
                one_of(KnownPlate.plate, sorted({s.plate for s in sightings}), dialect)
            )
        )
    }
    since: dict[int, datetime] = {}
    batch_before: dict[str, datetime] = {}
    for s in sorted(sightings, key=lambda s: (s.seen_at, s.id)):
        bounds = []
        if s.plate in known:
            first, last = known[s.plate]
            if first <= s.seen_at:
                # At the very time of the last one, it may not be the one before: ids are
                # drawn before commit, so a concurrent store's may be larger.
                bounds.append(last if last < s.seen_at else first)
        if s.plate in batch_before:
            bounds.append(batch_before[s.plate])
        if bounds:
            since[s.id] = max(bounds)
        batch_before[s.plate] = s.seen_at
    return since


def _remember(session: Session, sightings: Sequence[Read]) -> None:
    """Adds the stored sightings' plates to the directory of plates seen, or widens their
    first and last times."""
    if not sightings:
        return
    span: dict[str, tuple[datetime, datetime]] = {}
    for s in sightings:
        first, last = span.get(s.plate, (s.seen_at, s.seen_at))
        span[s.plate] = (min(first, s.seen_at), max(last, s.seen_at))
    plates = sorted(span)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = [
            {
                "plate": p,
                "first_seen_at": span[p][0].isoformat(),
                "last_seen_at": span[p][1].isoformat(),
            }
            for p in plates
        ]
        connection.exec_driver_sql(_PG_REMEMBER, (json.dumps(rows),))
        return
    upsert = sqlite.insert(KnownPlate)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[KnownPlate.plate],
            set_={
                "first_seen_at": func.min(KnownPlate.first_seen_at, upsert.excluded.first_seen_at),
                "last_seen_at": func.max(KnownPlate.last_seen_at, upsert.excluded.last_seen_at),
            },
        ),
        [{"plate": p, "first_seen_at": span[p][0], "last_seen_at": span[p][1]} for p in plates],
    )


def _previous(session: Session, sightings: Sequence[Read]) -> dict[int, Seen]:
    """Each sighting's previous one of the same plate, by the sighting's id (none: absent)."""
    since = _seen_since(session, sightings)
    sightings = [s for s in sightings if s.id in since]
    if not sightings:
        return {}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        looked_for = [
            {"id": s.id, "plate": s.plate, "seen_at": s.seen_at.isoformat(),
             "since": since[s.id].isoformat()}
            for s in sightings
        ]  # fmt: skip
        result = connection.exec_driver_sql(_PG_PREVIOUS, (json.dumps(looked_for),))
        return {
            new_id: Seen(id=key, camera_id=camera, plate=plate, seen_at=at, confidence=conf)
            for new_id, key, camera, plate, at, conf in result
        }
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
    rows = session.execute(
        select(
            PlateSighting.id,
            PlateSighting.camera_id,
            PlateSighting.plate,
            PlateSighting.seen_at,
            PlateSighting.confidence,
        ).where(PlateSighting.id.in_(set(previous_of.values())))
    )
    before = {
        key: Seen(id=key, camera_id=camera, plate=plate, seen_at=at, confidence=conf)
        for key, camera, plate, at, conf in rows
    }
    return {new_id: before[old_id] for new_id, old_id in previous_of.items()}


class _Place(NamedTuple):
    """Where a camera stands."""

    latitude: float
    longitude: float


def _placed(sighting: Seen | Read, camera: _Place) -> Sighting:
    """A stored sighting at its camera's place, as the cloned-plate check takes it."""
    return Sighting(
        plate=sighting.plate,
        camera_id=sighting.camera_id,
        latitude=camera.latitude,
        longitude=camera.longitude,
        at=sighting.seen_at,
    )
