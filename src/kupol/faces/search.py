"""Retrospective search — "was this face here before?": a photo in, the time-ordered sightings
across cameras out. Only for a case (case number and purpose required), always audited, and
only over templates still inside the retention window."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, Justification
from kupol.core.audit.model import AuditEntry
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PurposeRequiredError,
)
from kupol.core.messages import utcnow
from kupol.faces.files import FaceFiles, template_of
from kupol.faces.index import FaceIndex
from kupol.faces.model import FaceSighting
from kupol.faces.probe import one_usable_face
from kupol.faces.saved_index import load_checked, save_index
from kupol.faces.schemas import SearchResult, SightingRead
from kupol.faces.types import FaceAnalyzer

log = logging.getLogger(__name__)
RESULTS_VALID = timedelta(days=1)
"""How long a search's results may be opened (their crops) without searching again."""


class SightingIndex:
    """Templates of unexpired sightings, kept in step with the table by id, saved to a file
    when kupol stops and checked against the table when loaded.

    New rows (written by any process) are picked up before each search; purged ones are
    removed by the purge in this process, and checked against the table on every search, so
    a row purged elsewhere is never returned.
    """

    def __init__(
        self, *, db: Database, model_name: str, dim: int, path: Path | None = None
    ) -> None:
        self._db = db
        self._model = model_name
        self._dim = dim
        self._index = FaceIndex(dim=dim)
        self._last_id = 0
        self._lock = threading.Lock()
        self._path = path
        self._loaded = path is None
        self._dirty = False

    def save(self) -> bool:
        """Write the index to its file if it changed; whether it wrote."""
        with self._lock:
            if self._path is None or not self._dirty:
                return False
            save_index(self._index, self._path)
            self._dirty = False
            return True

    def _load(self) -> None:
        """The saved index, minus what the database no longer holds (purged meanwhile)."""
        self._loaded = True
        loaded = load_checked(self._path, self._dim, self._stored)
        if loaded is not None:
            self._index = loaded
            self._last_id = max(loaded.ids(), default=0)

    def _stored(self, ids: Sequence[int]) -> dict[int, bytes]:
        with self._db.reader() as session:
            return {
                int(key): template
                for key, template in session.execute(
                    select(FaceSighting.id, FaceSighting.template).where(
                        FaceSighting.id.in_(list(ids)), FaceSighting.expires_at > utcnow()
                    )
                )
            }

    def __len__(self) -> int:
        return len(self._index)

    LOOKBACK = 5000
    """Ids this far below the highest seen are read again: with several writers, a row with a
    lower id can commit after a higher one was already indexed."""

    def sync(self) -> int:
        """Load sightings added since the last sync; how many."""
        with self._lock:
            if not self._loaded:
                self._load()
            now = utcnow()
            with self._db.reader() as session:
                rows = session.execute(
                    select(FaceSighting.id, FaceSighting.template)
                    .where(
                        FaceSighting.id > self._last_id - self.LOOKBACK,
                        FaceSighting.model == self._model,
                        FaceSighting.expires_at > now,
                    )
                    .order_by(FaceSighting.id)
                )
                ids: list[int] = []
                vectors: list[NDArray[np.float32]] = []
                for key, template in rows:
                    if key in self._index:
                        continue
                    ids.append(key)
                    vectors.append(template_of(template))
            if ids:
                self._index.add(np.asarray(ids, dtype=np.int64), np.stack(vectors))
                self._last_id = max(self._last_id, ids[-1])
                self._dirty = True
            return len(ids)

    def add(self, rows: Sequence[tuple[int, NDArray[np.float32]]]) -> None:
        """Sightings this process just stored (saves the next sync a query)."""
        if not rows:
            return
        with self._lock:
            if not self._loaded:
                self._load()
            ids = np.asarray([r[0] for r in rows], dtype=np.int64)
            self._index.add(ids, np.stack([np.asarray(r[1], dtype=np.float32) for r in rows]))
            self._dirty = True

    def remove(self, ids: Sequence[int]) -> None:
        """Forget purged sightings."""
        if ids:
            with self._lock:
                if not self._loaded:
                    self._load()
                self._index.remove(np.asarray(ids, dtype=np.int64))
                self._dirty = True

    def search(
        self, template: NDArray[np.float32], k: int, min_similarity: float
    ) -> dict[int, float]:
        """Sighting id → similarity for the ``k`` nearest at or above ``min_similarity``."""
        self.sync()
        with self._lock:
            if len(self._index) == 0:
                return {}
            hits = self._index.search(
                template.reshape(1, -1), min(k, len(self._index)), min_similarity=min_similarity
            )[0]
        return {int(h.id): float(h.similarity) for h in hits}


@dataclass(frozen=True, kw_only=True)
class SearchQuery:
    """What to search for besides the photo."""

    since: datetime | None = None
    until: datetime | None = None
    camera_ids: tuple[str, ...] = ()
    min_similarity: float | None = None
    limit: int = 200


class FaceSearch:
    """Retrospective search over sightings, and their crops."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        files: FaceFiles,
        analyzer: FaceAnalyzer,
        index: SightingIndex,
        retention: timedelta,
        default_min_similarity: float,
    ) -> None:
        self._db = db
        self._audit = audit
        self._files = files
        self._analyzer = analyzer
        self._index = index
        self._retention = retention
        self._default_min = default_min_similarity

    def search(
        self, *, photo: bytes, query: SearchQuery, actor: Principal, why: Justification
    ) -> SearchResult:
        """Where the face in ``photo`` was seen, oldest first.

        Raises:
            PermissionDeniedError: the actor may not search faces.
            PurposeRequiredError: no case number was given.
            InvalidInputError: the photo holds no usable face, or several faces.
        """
        actor.require(Permission.FACES_SEARCH)
        if not (why.case_number or "").strip():
            raise PurposeRequiredError("a face search needs a case number (case_number)")
        if not 1 <= query.limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        probe = one_usable_face(
            self._analyzer, photo, use="search", crop_hint="the person searched for"
        )
        now = utcnow()
        floor = now - self._retention
        since = max(query.since, floor) if query.since else floor
        min_similarity = query.min_similarity or self._default_min
        scope = CameraScope.of(actor)
        sightings = self._candidates(probe.embedding, query, scope, since, min_similarity, now)
        sightings.sort(key=lambda s: (s.seen_at, s.id))
        sightings = sightings[: query.limit]
        self._audit.access(
            actor=actor,
            why=why,
            action="search",
            resource_type="face_sighting",
            details={
                "since": since.isoformat(),
                "until": query.until.isoformat() if query.until else None,
                "cameras": list(query.camera_ids),
                "min_similarity": min_similarity,
                "returned": [s.id for s in sightings],
                **scope.for_audit(),
            },
        )
        return SearchResult(
            case_number=why.case_number or "",
            probe_quality=probe.quality.score,
            searched_since=since,
            min_similarity=min_similarity,
            sightings=sightings,
        )

    def _candidates(
        self,
        template: NDArray[np.float32],
        query: SearchQuery,
        scope: CameraScope,
        since: datetime,
        min_similarity: float,
        now: datetime,
    ) -> list[SightingRead]:
        """Nearest sightings that pass the filters and the user's scope: the index is asked
        for more until enough pass, or until it has nothing more above the similarity floor."""
        k = max(50, query.limit * 5)
        while True:
            candidates = self._index.search(template, k, min_similarity)
            found = self._filtered(candidates, query, scope, since, now)
            if len(found) >= query.limit or len(candidates) < k or k >= len(self._index):
                return found
            k *= 4

    def _filtered(
        self,
        candidates: dict[int, float],
        query: SearchQuery,
        scope: CameraScope,
        since: datetime,
        now: datetime,
    ) -> list[SightingRead]:
        if not candidates:
            return []
        select_rows = (
            select(FaceSighting, Camera)
            .join(Camera, Camera.id == FaceSighting.camera_id)
            .where(
                FaceSighting.id.in_(list(candidates)),
                FaceSighting.expires_at > now,
                FaceSighting.seen_at >= since,
                scope.clause(FaceSighting.camera_id),
            )
        )
        if query.until:
            select_rows = select_rows.where(FaceSighting.seen_at < query.until)
        if query.camera_ids:
            select_rows = select_rows.where(FaceSighting.camera_id.in_(query.camera_ids))
        with self._db.reader() as session:
            return [
                SightingRead(
                    id=row.id,
                    camera_id=row.camera_id,
                    camera_name=camera.name,
                    latitude=camera.latitude,
                    longitude=camera.longitude,
                    seen_at=row.seen_at,
                    similarity=round(candidates[row.id], 4),
                    quality=row.quality,
                    track=row.track,
                    box=row.box,
                )
                for row, camera in session.execute(select_rows)
            ]

    def crop(self, *, sighting_id: int, actor: Principal, why: Justification) -> bytes:
        """A sighting's face crop, for a case; audited."""
        actor.require(Permission.FACES_SEARCH)
        if not (why.case_number or "").strip():
            raise PurposeRequiredError("viewing a face sighting needs a case number")
        now = utcnow()
        with self._db.reader() as session:
            row = session.scalar(
                select(FaceSighting).where(
                    FaceSighting.id == sighting_id,
                    CameraScope.of(actor).clause(FaceSighting.camera_id),
                )
            )
            if row is None or row.expires_at <= now or row.seen_at <= now - self._retention:
                raise NotFoundError(f"no face sighting {sighting_id} (expired or never stored)")
            uri = row.crop_uri
            # A crop is shown only as a result of a search for this case by this user: no
            # browsing every face by its number.
            searches = session.scalars(
                select(AuditEntry.details)
                .where(
                    AuditEntry.actor == actor.username,
                    AuditEntry.action == "search",
                    AuditEntry.resource_type == "face_sighting",
                    AuditEntry.case_number == why.case_number,
                    AuditEntry.at >= now - RESULTS_VALID,
                )
                .order_by(AuditEntry.seq.desc())
                .limit(100)
            )
            if not any(sighting_id in (d or {}).get("returned", []) for d in searches):
                raise PermissionDeniedError(
                    f"sighting {sighting_id} was not among the results of your searches for "
                    f"case {why.case_number} in the last {RESULTS_VALID.days} days"
                )
        data = self._files.read(uri)
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="face_sighting",
            resource_id=str(sighting_id),
        )
        return data
