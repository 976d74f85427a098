"""The sightings store's one writer: plate reads from the bus into ``plate_sightings``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from kupol.core.db import Database
from kupol.plates.formats import PlateKind, parse_plate
from kupol.plates.messages import PlateObserved
from kupol.plates.model import PlateSighting

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class StoreStats:
    """What one batch did."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0


class PlateStore:
    """Bus consumer of :class:`PlateObserved`."""

    consumer = "plates-store"

    def __init__(self, *, db: Database, known_cameras: Callable[[], set[str]]) -> None:
        self._db = db
        self._known_cameras = known_cameras

    async def handle(self, messages: Sequence[PlateObserved]) -> None:
        """Bus handler."""
        await asyncio.to_thread(self.record, messages)

    def record(self, messages: Sequence[PlateObserved]) -> StoreStats:
        """Store a batch; a read that is no plate, or of an unknown camera, is refused with a
        log line and the rest are kept."""
        known = self._known_cameras()
        stored = duplicates = refused = 0
        with self._db.unit_of_work() as session:
            seen_ids = {str(m.id) for m in messages}
            existing = set(
                session.scalars(
                    select(PlateSighting.message_id).where(PlateSighting.message_id.in_(seen_ids))
                )
            )
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
                if str(message.id) in existing:
                    duplicates += 1
                    continue
                existing.add(str(message.id))
                session.add(
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
                    )
                )
                stored += 1
        return StoreStats(stored=stored, duplicates=duplicates, refused=refused)
