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
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Insert, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
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
        self._cameras: set[str] = set()

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
            plain: list[_Face] = []
            alone: list[tuple[_Face, GalleryMatch | None]] = []
            for key, face in valid.items():
                if key in stored:
                    continue
                match = self._gallery.match(face.template) if self._matching else None
                if match is None:
                    plain.append(face)
                else:
                    alone.append((face, match))
            together = self._store_together(session, plain, added) if plain else None
            if together is not None:
                counts["stored"] += together
                counts["duplicates"] += len(plain) - together
            else:
                alone = sorted([*((f, None) for f in plain), *alone], key=lambda p: p[0].seen_at)
            for face, match in alone:
                try:
                    with session.begin_nested():
                        outcome = self._one(session, face, match, added, events)
                except Exception:
                    log.exception(
                        "face from %s could not be matched; skipped", face.message.camera_id
                    )
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

    def _valid(self, messages: Sequence[FaceObserved], counts: dict[str, int]) -> dict[str, _Face]:
        """The messages that can be stored, by message id, in time order, each with its
        template as an array; the others counted as refused (or duplicates, for a message
        twice in the batch)."""
        if not {m.camera_id for m in messages} <= self._cameras:  # asked again only then
            self._cameras = self._known_cameras()
        known = self._cameras
        valid: dict[str, _Face] = {}
        for message in sorted(messages, key=lambda m: m.seen_at):
            if message.camera_id not in known:
                log.warning("face of unknown camera %s dropped", message.camera_id)
                counts["refused"] += 1
                continue
            template = np.asarray(message.template, dtype=np.float32)
            problem = self._problem(message, template)
            if problem:
                # A malformed message is dropped with a reason, never retried forever: the
                # camera's other messages must get through.
                log.warning("face from %s refused: %s", message.camera_id, problem)
                counts["refused"] += 1
                continue
            if str(message.id) in valid:
                counts["duplicates"] += 1
                continue
            valid[str(message.id)] = _Face(message, template)
        return valid

    def _sighting(self, face: _Face) -> dict[str, Any]:
        """The ``face_sightings`` row of ``face``."""
        message = face.message
        return {
            "message_id": str(message.id), "camera_id": message.camera_id,
            "track": message.track, "seen_at": message.seen_at,
            "expires_at": message.seen_at + self._retention, "box": list(message.box),
            "quality": message.quality, "template": template_bytes(face.template),
            "model": message.model, "crop_uri": message.crop_uri,
            "crop_sha256": message.crop_sha256,
        }  # fmt: skip

    def _store_together(
        self, session: Session, faces: list[_Face], added: list[tuple[int, np.ndarray]]
    ) -> int | None:
        """Store the sightings of ``faces`` with one INSERT, in a savepoint: how many were
        stored — a face another consumer stored since the query for them is skipped by its
        unique message id — or ``None``, and nothing stored, when the INSERT fails."""
        try:
            with session.begin_nested():
                rows = session.execute(
                    _insert_new(session).returning(FaceSighting.id, FaceSighting.message_id),
                    [self._sighting(f) for f in faces],
                ).all()
        except Exception as exc:
            log.warning("%d faces not stored together (%s): one by one", len(faces), exc)
            return None
        ids = {message_id: key for key, message_id in rows}
        added.extend((ids[f.key], f.template) for f in faces if f.key in ids)
        return len(ids)

    def _one(
        self,
        session: Session,
        face: _Face,
        match: GalleryMatch | None,
        added: list[tuple[int, np.ndarray]],
        events: list[CameraEventObserved],
    ) -> str | None:
        """Store one sighting and, when it ``match``-es a listed person, raise or join that
        person's hit: ``raised``, ``joined`` or ``None``."""
        message = face.message
        sighting = FaceSighting(**self._sighting(face))
        session.add(sighting)
        session.flush()
        added.append((sighting.id, face.template))
        if match is None:
            return None
        _serialise(session, message.camera_id, match.enrolled.person_id)
        if self._join(session, message, sighting, match):
            return "joined"
        events.append(self._raise(session, message, sighting, match))
        return "raised"

    def _problem(self, message: FaceObserved, template: np.ndarray) -> str | None:
        if message.model != self._gallery.model_name:
            return (
                f"template of model {message.model!r}, this kupol uses {self._gallery.model_name!r}"
            )
        if len(message.template) != self._gallery.dim:
            return f"template has {len(message.template)} values, not {self._gallery.dim}"
        norm = float(np.linalg.norm(template))
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
            subject=f"face_hit:{hit.id}",
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


@dataclass(frozen=True, slots=True)
class _Face:
    """A valid message with its template as an array (converted once)."""

    message: FaceObserved
    template: np.ndarray

    @property
    def key(self) -> str:
        return str(self.message.id)

    @property
    def seen_at(self) -> datetime:
        return self.message.seen_at


def _insert_new(session: Session) -> Insert:
    """An INSERT of sightings that skips one whose message is already stored (PostgreSQL
    and SQLite; elsewhere a plain INSERT, which fails on it and falls back one by one)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(FaceSighting).on_conflict_do_nothing(
            index_elements=[FaceSighting.message_id]
        )
    if dialect == "sqlite":
        return sqlite.insert(FaceSighting).on_conflict_do_nothing(
            index_elements=[FaceSighting.message_id]
        )
    return insert(FaceSighting)


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
