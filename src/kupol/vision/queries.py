"""Reading tracks back (where an object went): every search and view is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kupol.core.audit import AuditLog, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import NotFoundError
from kupol.vision.model import TrackRecord


@dataclass(frozen=True, kw_only=True)
class TrackFilter:
    """What tracks are searched by."""

    camera_id: str | None = None
    object_class: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


class TrackQueries:
    """Track search and view; the audit entry names every track returned."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def search(
        self, *, filters: TrackFilter, actor: Principal, why: Justification
    ) -> list[dict[str, Any]]:
        """Tracks matching ``filters``, newest first, without their paths."""
        actor.require(Permission.TRACKS_READ)
        scope = CameraScope.of(actor)
        query = (
            select(TrackRecord)
            .where(scope.clause(TrackRecord.camera_id))
            .order_by(TrackRecord.started_at.desc())
        )
        if filters.camera_id:
            query = query.where(TrackRecord.camera_id == filters.camera_id)
        if filters.object_class:
            query = query.where(TrackRecord.object_class == filters.object_class)
        if filters.since:
            query = query.where(TrackRecord.last_seen_at >= filters.since)
        if filters.until:
            query = query.where(TrackRecord.started_at < filters.until)
        with self._db.reader() as session:
            rows = [r.summary() for r in session.scalars(query.limit(filters.limit))]
        self._audit.access(
            actor=actor,
            why=why,
            action="search",
            resource_type="track",
            details={
                "filters": {
                    k: (v.isoformat() if isinstance(v, datetime) else v)
                    for k, v in vars(filters).items()
                    if v is not None
                },
                "returned": [r["id"] for r in rows],
                **scope.for_audit(),
            },
        )
        return rows

    def get(self, *, track_id: str, actor: Principal, why: Justification) -> dict[str, Any]:
        """One track with its path (the object's walk across the camera's view)."""
        actor.require(Permission.TRACKS_READ)
        scope = CameraScope.of(actor)
        with self._db.reader() as session:
            row = session.scalar(
                select(TrackRecord).where(
                    TrackRecord.id == track_id, scope.clause(TrackRecord.camera_id)
                )
            )
            if row is None:
                raise NotFoundError(f"no track {track_id!r}")
            result = row.summary() | {"path": row.path, "last_box": row.last_box}
        self._audit.access(
            actor=actor, why=why, action="view", resource_type="track", resource_id=track_id
        )
        return result
