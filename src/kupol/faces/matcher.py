"""Live matching: every face a camera saw is stored as a sighting (for retrospective search,
until it expires) and searched against the active watchlists. A person on a list seen again on
the same camera within the group window joins their open hit; otherwise a new hit is raised as
a ``face_match`` event (which the alert rules turn into an alert) and waits for an operator."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from kupol.core.db import Database
from kupol.core.errors import NotFoundError
from kupol.core.outbox import OutboxRelay
from kupol.events.messages import CameraEventObserved
from kupol.faces.files import FaceFiles, StoredFile, template_bytes
from kupol.faces.gallery import Gallery, GalleryMatch
from kupol.faces.messages import FaceObserved
from kupol.faces.model import FaceHit, FaceSighting, HitStatus

log = logging.getLogger(__name__)

FACE_MATCH = "face_match"


@dataclass(frozen=True, kw_only=True)
class MatchStats:
    """What one batch did."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    hits_raised: int = 0
    hits_joined: int = 0
    events: tuple[CameraEventObserved, ...] = ()
    """``face_match`` events of the hits raised (already in the outbox)."""


class FaceMatcher:
    """Bus consumer of :class:`FaceObserved`."""

    consumer = "faces-matcher"

    def __init__(
        self,
        *,
        db: Database,
        gallery: Gallery,
        outbox: OutboxRelay,
        files: FaceFiles,
        known_cameras: Callable[[], set[str]],
        retention: timedelta,
        group_window: timedelta,
        matching: bool = True,
        on_stored: Callable[[Sequence[tuple[int, np.ndarray]]], None] | None = None,
    ) -> None:
        self._db = db
        self._gallery = gallery
        self._outbox = outbox
        self._files = files
        self._known_cameras = known_cameras
        self._retention = retention
        self._group_window = group_window
        self._matching = matching
        self._on_stored = on_stored

    async def handle(self, messages: Sequence[FaceObserved]) -> None:
        """Bus handler."""
        stats = await asyncio.to_thread(self.record, messages)
        await self._outbox.publish_now(stats.events)

    def record(self, messages: Sequence[FaceObserved]) -> MatchStats:
        """Store a batch of sightings and match them, in one transaction.

        Faces that match no one (nearly all) are stored together: one query for the ones
        already stored, one INSERT for the rest. A face of a listed person is stored and
        matched on its own, in a savepoint, in time order (it may join the hit a face before
        it raised). A face that cannot be handled is logged and skipped, the others are kept
        (if the shared INSERT fails, its faces are stored one by one to find the culprit)."""
        counts = {"stored": 0, "duplicates": 0, "refused": 0, "raised": 0, "joined": 0}
        added: list[tuple[int, np.ndarray]] = []
        events: list[CameraEventObserved] = []
        valid = self._valid(messages, counts)
        with self._db.unit_of_work() as session:
            query = select(FaceSighting.message_id).where(FaceSighting.message_id.in_(valid))
            stored = set(session.scalars(query)) if valid else set()
            counts["duplicates"] += len(stored)
            plain: list[FaceObserved] = []
            alone: list[tuple[FaceObserved, GalleryMatch | None]] = []
            for key, message in valid.items():
                if key in stored:
                    continue
                match = self._gallery.match(_template(message)) if self._matching else None
                if match is None:
                    plain.append(message)
                else:
                    alone.append((message, match))
            if plain and self._store_together(session, plain, added):
                counts["stored"] += len(plain)
            else:
                alone = sorted([*((m, None) for m in plain), *alone], key=lambda p: p[0].seen_at)
            for message, match in alone:
                try:
                    with session.begin_nested():
                        outcome = self._one(session, message, match, added, events)
                except Exception:
                    log.exception("face from %s could not be matched; skipped", message.camera_id)
                    counts["refused"] += 1
                    continue
                counts["stored"] += 1
                if outcome:
                    counts[outcome] += 1
        if added and self._on_stored is not None:
            self._on_stored(added)
        return MatchStats(
            stored=counts["stored"],
            duplicates=counts["duplicates"],
            refused=counts["refused"],
            hits_raised=counts["raised"],
            hits_joined=counts["joined"],
            events=tuple(events),
        )

    def _valid(
        self, messages: Sequence[FaceObserved], counts: dict[str, int]
    ) -> dict[str, FaceObserved]:
        """The messages that can be stored, by message id, in time order; the others
        counted as refused (or duplicates, for a message twice in the batch)."""
        known = self._known_cameras()
        valid: dict[str, FaceObserved] = {}
        for message in sorted(messages, key=lambda m: m.seen_at):
            if message.camera_id not in known:
                log.warning("face of unknown camera %s dropped", message.camera_id)
                counts["refused"] += 1
                continue
            problem = self._problem(message)
            if problem:
                # A malformed message is dropped with a reason, never retried forever: the
                # camera's other messages must get through.
                log.warning("face from %s refused: %s", message.camera_id, problem)
                counts["refused"] += 1
                continue
            if str(message.id) in valid:
                counts["duplicates"] += 1
                continue
            valid[str(message.id)] = message
        return valid

    def _sighting(self, message: FaceObserved) -> dict[str, Any]:
        """The ``face_sightings`` row of ``message``."""
        return {
            "message_id": str(message.id), "camera_id": message.camera_id,
            "track": message.track, "seen_at": message.seen_at,
            "expires_at": message.seen_at + self._retention, "box": list(message.box),
            "quality": message.quality, "template": template_bytes(_template(message)),
            "model": message.model, "crop_uri": message.crop_uri,
            "crop_sha256": message.crop_sha256,
        }  # fmt: skip

    def _store_together(
        self, session: Session, messages: list[FaceObserved], added: list[tuple[int, np.ndarray]]
    ) -> bool:
        """Store the sightings of ``messages`` with one INSERT, in a savepoint; ``False``, and
        nothing stored, when it fails."""
        try:
            with session.begin_nested():
                ids = session.scalars(
                    insert(FaceSighting).returning(FaceSighting.id, sort_by_parameter_order=True),
                    [self._sighting(m) for m in messages],
                ).all()
        except Exception as exc:
            log.warning("%d faces not stored together (%s): one by one", len(messages), exc)
            return False
        added.extend((i, _template(m)) for i, m in zip(ids, messages, strict=True))
        return True

    def _one(
        self,
        session: Session,
        message: FaceObserved,
        match: GalleryMatch | None,
        added: list[tuple[int, np.ndarray]],
        events: list[CameraEventObserved],
    ) -> str | None:
        """Store one sighting and, when it ``match``-es a listed person, raise or join that
        person's hit: ``raised``, ``joined`` or ``None``."""
        sighting = FaceSighting(**self._sighting(message))
        session.add(sighting)
        session.flush()
        added.append((sighting.id, _template(message)))
        if match is None:
            return None
        _serialise(session, message.camera_id, match.enrolled.person_id)
        if self._join(session, message, sighting, match):
            return "joined"
        events.append(self._raise(session, message, sighting, match))
        return "raised"

    def _problem(self, message: FaceObserved) -> str | None:
        if message.model != self._gallery.model_name:
            return (
                f"template of model {message.model!r}, this kupol uses {self._gallery.model_name!r}"
            )
        if len(message.template) != self._gallery.dim:
            return f"template has {len(message.template)} values, not {self._gallery.dim}"
        norm = float(np.linalg.norm(np.asarray(message.template, dtype=np.float32)))
        if not 0.99 <= norm <= 1.01:
            return f"template is not of unit length ({norm:.3f})"
        return None

    def _join(
        self,
        session: Session,
        message: FaceObserved,
        sighting: FaceSighting,
        match: GalleryMatch,
    ) -> bool:
        since = message.seen_at - self._group_window
        open_hit = session.scalars(
            select(FaceHit)
            .where(
                FaceHit.camera_id == message.camera_id,
                FaceHit.person_id == match.enrolled.person_id,
                FaceHit.last_seen_at >= since,
                FaceHit.status != HitStatus.REJECTED.value,
            )
            .order_by(FaceHit.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        if open_hit is None:
            return False
        open_hit.sightings += 1
        open_hit.last_seen_at = max(open_hit.last_seen_at, message.seen_at)
        if open_hit.status == HitStatus.PENDING.value and match.similarity > open_hit.similarity:
            # The operator is shown the best pair: this sighting's face and the photo it
            # matched, with their similarity. A decided hit is left as it was decided.
            probe = self._probe_copy(message)
            if probe is not None:
                open_hit.probe_uri, open_hit.probe_sha256 = probe.uri, probe.sha256
            open_hit.similarity = match.similarity
            open_hit.sighting_id = sighting.id
            open_hit.photo_id = match.enrolled.photo_id
        return True

    def _probe_copy(self, message: FaceObserved) -> StoredFile | None:
        """The hit's own copy of the camera's face (the sighting's crop expires)."""
        try:
            data = self._files.read(message.crop_uri)
        except NotFoundError:
            log.warning("face crop %s is missing; hit kept without it", message.crop_uri)
            return None
        return self._files.save(
            data, folder=f"{message.camera_id}/faces/hits/{message.seen_at:%Y/%m/%d}"
        )

    def _raise(
        self,
        session: Session,
        message: FaceObserved,
        sighting: FaceSighting,
        match: GalleryMatch,
    ) -> CameraEventObserved:
        enrolled = match.enrolled
        probe = self._probe_copy(message)
        hit = FaceHit(
            camera_id=message.camera_id,
            watchlist_id=enrolled.watchlist_id,
            person_id=enrolled.person_id,
            photo_id=enrolled.photo_id,
            sighting_id=sighting.id,
            track=message.track,
            similarity=match.similarity,
            threshold=enrolled.threshold,
            probe_uri=probe.uri if probe else "",
            probe_sha256=probe.sha256 if probe else "",
            first_seen_at=message.seen_at,
            last_seen_at=message.seen_at,
            sightings=1,
            status=HitStatus.PENDING.value,
        )
        session.add(hit)
        session.flush()
        # The event says only that there is a hit to review: who is listed, and both faces,
        # stay behind the faces permissions (the hit queue), not in the event stream and its
        # evidence, which more roles read.
        event = CameraEventObserved(
            camera_id=message.camera_id,
            type=FACE_MATCH,
            occurred_at=message.seen_at,
            confidence=max(0.0, min(1.0, match.similarity)),
            zone=None,
            payload={
                "hit_id": hit.id,
                "similarity": round(match.similarity, 4),
                "threshold": enrolled.threshold,
                "note": "a lead for an operator to confirm in the face hit queue",
            },
        )
        hit.event_id = str(event.id)
        self._outbox.add(session, [event])
        return event


def _template(message: FaceObserved) -> np.ndarray:
    return np.asarray(message.template, dtype=np.float32)


def _serialise(session: Session, camera_id: str, person_id: int) -> None:
    """One matcher at a time raises or joins a hit for a (camera, person) pair: two workers
    must not both raise one for the same walk past (PostgreSQL; SQLite writes are serial)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.blake2b(f"face-hit:{camera_id}:{person_id}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        session.execute(text("select pg_advisory_xact_lock(:k)"), {"k": key})
