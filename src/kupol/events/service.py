"""Recording observed events (a bus consumer) and reading them back (audited)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from kupol.core.bus import Bus
from kupol.core.db import Database
from kupol.core.messages import Event, encode_list, utcnow
from kupol.core.outbox import OutboxRelay
from kupol.core.quarantine import Quarantine
from kupol.events.messages import CameraEventObserved, CameraEventsRecorded, RecordedEvent
from kupol.events.model import CameraEvent

log = logging.getLogger(__name__)
CAMERA_EVENTS = cast(Table, CameraEvent.__table__)

# A processor runs inside the recording transaction on the newly stored events and returns
# the events to publish once it commits (the alert engine is one).
Processor = Callable[[Session, Sequence[CameraEventObserved]], list[Event]]


class EventRecorder:
    """The durable consumer that stores observed events exactly once (keyed by event id)."""

    consumer = "events.recorder"

    def __init__(
        self,
        *,
        db: Database,
        bus: Bus,
        outbox: OutboxRelay,
        quarantine: Quarantine,
        known_cameras: Callable[[], set[str]],
    ) -> None:
        self._db = db
        self._bus = bus
        self._outbox = outbox
        self._quarantine = quarantine
        self._known_cameras = known_cameras
        self._cameras: set[str] = set()
        self._processors: list[Processor] = []
        self.publish_recorded = True
        self.geotag: Callable[[str, datetime], dict[str, object] | None] | None = None
        """Where a mobile camera was when it saw something (wired by the composition root to
        the fleet): the event's payload gets it as ``geo``."""

    def add_processor(self, processor: Processor) -> None:
        """Run ``processor`` in every recording transaction (wired by the composition root)."""
        self._processors.append(processor)

    async def handle(self, events: Sequence[CameraEventObserved]) -> None:
        """Bus handler: store the batch, then publish what it produced."""
        produced = await asyncio.to_thread(self.record, events)
        notices = [e for e in produced if isinstance(e, CameraEventsRecorded)]
        follow_ups = [e for e in produced if not isinstance(e, CameraEventsRecorded)]
        if follow_ups:
            # The events are stored whatever happens next: a refused publish leaves the
            # follow-ups in the outbox for the relay, it does not fail the ingestion.
            await self._outbox.publish_now(follow_ups)
        if notices:
            try:
                await self._bus.announce(*notices)  # to live feeds; not stored by the bus
            except Exception as exc:  # a live-feed notice: losing one loses no record
                log.warning("recorded-events notice not published: %s", exc)

    def record(self, events: Sequence[CameraEventObserved]) -> list[Event]:
        """Store the events not stored before, with their follow-up events in the outbox.

        Returns a ``CameraEventsRecorded`` notice (not in the outbox: it is a live-feed
        convenience; a consumer that must see every event subscribes durably to
        ``CameraEventObserved``) and the follow-ups (in the outbox, e.g. ``AlertChanged``).
        """
        accepted = self._accept_known_cameras(events)
        if not accepted:
            return []
        if self.geotag is not None:  # before the transaction: the fleet writes its own
            accepted = [self._placed(e) for e in accepted]
        now = utcnow()
        with self._db.unit_of_work() as session:
            fresh = _store_new(session, _unique(accepted), now)
            if not fresh:
                return []
            follow_ups: list[Event] = []
            for processor in self._processors:
                follow_ups.extend(processor(session, fresh))
            self._outbox.add(session, follow_ups)
        return ([_recorded(fresh)] if self.publish_recorded else []) + follow_ups

    def _placed(self, event: CameraEventObserved) -> CameraEventObserved:
        assert self.geotag is not None
        if "geo" in event.payload:
            return event
        geo = self.geotag(event.camera_id, event.occurred_at)
        return event if geo is None else replace(event, payload={**event.payload, "geo": geo})

    def _accept_known_cameras(
        self, events: Sequence[CameraEventObserved]
    ) -> list[CameraEventObserved]:
        unknown = {e.camera_id for e in events} - self._cameras
        if unknown:
            self._cameras = self._known_cameras()
        accepted = []
        for event in events:
            if event.camera_id in self._cameras:
                accepted.append(event)
            else:
                # The API checks cameras before publishing; this catches other producers.
                self._quarantine.keep(
                    source=f"bus:{self.consumer}",
                    reason=f"unknown camera {event.camera_id!r}",
                    body=_jsonable(event),
                )
        return accepted


def _recorded(fresh: Sequence[CameraEventObserved]) -> CameraEventsRecorded:
    return CameraEventsRecorded(
        events=tuple(
            RecordedEvent(
                event_id=e.id,
                camera_id=e.camera_id,
                type=e.type,
                occurred_at=e.occurred_at,
                confidence=e.confidence,
                zone=e.zone,
            )
            for e in fresh
        )
    )


def _unique(events: Sequence[CameraEventObserved]) -> list[CameraEventObserved]:
    seen: set[UUID] = set()
    out = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            out.append(event)
    return out


_COLUMNS = (
    "id",
    "camera_id",
    "type",
    "occurred_at",
    "recorded_at",
    "confidence",
    "zone",
    "payload",
    "evidence",
)


# PostgreSQL: the whole batch in one statement with one parameter, a JSON array of the rows
# (the events' own JSON, parsed by the server; psycopg's array parameters cost more in
# Python than the insert itself), prepared once per connection by psycopg,
# duplicates skipped by the primary key. Against the select-then-executemany it replaced
# (bench/ingest.py, bench/load.py): no IN list of hundreds of ids to send and parse, one
# round trip instead of two, and a worker racing another on the same events waits for it and
# skips them instead of failing.
_PG_INSERT_NEW = (
    "INSERT INTO camera_events (id, camera_id, type, occurred_at, recorded_at, confidence, "
    "zone, payload, evidence) "
    "SELECT id, camera_id, type, occurred_at, %s, confidence, zone, payload, evidence "
    "FROM json_to_recordset(%s::json) AS u(id uuid, camera_id varchar, type varchar, "
    "occurred_at timestamptz, confidence float8, zone varchar, payload json, evidence json) "
    "ON CONFLICT DO NOTHING RETURNING id"
)


def _store_new(
    session: Session, events: Sequence[CameraEventObserved], now: datetime
) -> list[CameraEventObserved]:
    """Insert the events not stored before (idempotent by event id) and return them."""
    if any(e.occurred_at.tzinfo is None for e in events):
        raise ValueError("an event's occurred_at has no time zone; producers must send UTC")
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The events as they travel (every field, by name; the server takes the columns it
        # is asked for): one pass in pydantic's serialiser, where a dict per event and
        # json.dumps took five times as long (9 → 2 ms a 2,000-event batch).
        rows = encode_list(CameraEventObserved, events).decode()
        result = connection.exec_driver_sql(_PG_INSERT_NEW, (now, rows))
        stored = set(result.scalars())
        return [e for e in events if e.id in stored]
    # Elsewhere select-then-insert: SQLite's write transactions are serial, so no other
    # worker can insert between the two.
    existing = set(
        session.scalars(select(CameraEvent.id).where(CameraEvent.id.in_([e.id for e in events])))
    )
    fresh = [e for e in events if e.id not in existing]
    if fresh:
        _insert(session, fresh, now)
    return fresh


def _insert(session: Session, events: Sequence[CameraEventObserved], now: datetime) -> None:
    """Insert the rows through the driver: per-row type processing in SQLAlchemy cost more
    than the INSERT itself (bench/ingest.py). Values are encoded exactly as the column
    types store them, which the recorder tests check by reading rows back on both databases.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        recorded = _sqlite_time(now)
        rows: list[tuple[object, ...]] = [
            (
                e.id.hex,
                e.camera_id,
                e.type,
                _sqlite_time(e.occurred_at),
                recorded,
                e.confidence,
                e.zone,
                json.dumps(e.payload),
                json.dumps([asdict(ref) for ref in e.evidence]),
            )
            for e in events
        ]
        marker = "?"
    else:  # any other database: the portable (slower) path
        connection.execute(insert(CAMERA_EVENTS), [_row(e, now) for e in events])
        return
    sql = (
        f"INSERT INTO camera_events ({', '.join(_COLUMNS)}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join([marker] * len(_COLUMNS))})"
    )
    connection.exec_driver_sql(sql, rows)


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage format, in UTC, years zero-padded."""
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


def _row(event: CameraEventObserved, now: datetime) -> dict[str, object]:
    return {
        "id": event.id,
        "camera_id": event.camera_id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "recorded_at": now,
        "confidence": event.confidence,
        "zone": event.zone,
        "payload": event.payload,
        "evidence": [asdict(ref) for ref in event.evidence],
    }


def _jsonable(event: CameraEventObserved) -> dict[str, object]:
    import json

    from kupol.core.messages import encode

    loaded: dict[str, object] = json.loads(encode(event))
    return loaded


__all__ = ["EventRecorder"]
