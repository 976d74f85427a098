"""The one writer of tracks: a durable bus consumer that folds lifecycle messages into rows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from kupol.core.db import Database
from kupol.vision.messages import TrackObserved
from kupol.vision.model import TrackRecord

log = logging.getLogger(__name__)
MAX_PATH_POINTS = 2000
"""A track's stored walk is capped; later points thin the older ones out."""


class TrackRecorder:
    """Applies :class:`TrackObserved` messages to the ``tracks`` table, idempotently.

    Messages may be redelivered or arrive in a batch out of order: a row only moves
    forward (``last_seen_at`` never goes back, an ended track stays ended) and path points
    are merged by time, so applying a message twice changes nothing.
    """

    consumer = "vision.tracks"

    def __init__(self, *, db: Database, known_cameras: Callable[[], set[str]]) -> None:
        self._db = db
        self._known_cameras = known_cameras

    async def handle(self, messages: Sequence[TrackObserved]) -> None:
        """Bus handler."""
        await asyncio.to_thread(self.record, messages)

    def record(self, messages: Sequence[TrackObserved]) -> int:
        """Store a batch; returns the number of messages applied."""
        known = self._known_cameras()
        applied = 0
        with self._db.unit_of_work() as session:
            for message in sorted(messages, key=lambda m: m.seen_at):
                if message.camera_id not in known:
                    log.warning("track of unknown camera %s dropped", message.camera_id)
                    continue
                key = TrackRecord.key(message.camera_id, message.run_id, message.track_id)
                row = session.get(TrackRecord, key)
                if row is None:
                    row = TrackRecord(
                        id=key,
                        camera_id=message.camera_id,
                        run_id=message.run_id,
                        track_id=message.track_id,
                        object_class=message.object_class,
                        state="active",
                        started_at=message.started_at,
                        last_seen_at=message.seen_at,
                        max_confidence=message.confidence,
                        last_box=list(message.box),
                        path=[],
                        updates=0,
                    )
                    session.add(row)
                _apply(row, message)
                applied += 1
        return applied


def _apply(row: TrackRecord, message: TrackObserved) -> None:
    if message.seen_at >= row.last_seen_at:
        row.last_seen_at = message.seen_at
        row.last_box = list(message.box)
    row.max_confidence = max(row.max_confidence, message.confidence)
    row.updates = (row.updates or 0) + 1
    if message.stage == "end":
        row.state = "ended"
        row.ended_at = max(message.seen_at, row.ended_at or message.seen_at)
    if message.path:
        points = {round(p[0], 2): [round(p[0], 2), p[1], p[2]] for p in row.path or []}
        for t, x, y in message.path:
            points[round(t, 2)] = [round(t, 2), round(x, 4), round(y, 4)]
        merged = [points[t] for t in sorted(points)]
        if len(merged) > MAX_PATH_POINTS:
            merged = merged[:: len(merged) // (MAX_PATH_POINTS // 2) + 1]
        row.path = merged
