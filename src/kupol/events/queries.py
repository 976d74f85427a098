"""Reading camera events back: search, view and evidence, each audited with its purpose."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import NotFoundError
from kupol.events.model import CameraEvent
from kupol.events.schemas import CameraEventRead


@dataclass(frozen=True, kw_only=True)
class EventFilter:
    """What an operator searches camera events by."""

    camera_id: str | None = None
    type: str | None = None
    zone: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_confidence: float | None = None
    limit: int = 100


class EventQueries:
    """Searching and viewing events: every call is audited with its purpose."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def search(
        self, *, filters: EventFilter, actor: Principal, why: Justification
    ) -> list[CameraEventRead]:
        """Events matching ``filters``, newest first.

        The audit entry names the filters *and* every event returned, so "who saw event X"
        has an answer; nothing is returned if it cannot be written.
        """
        actor.require(Permission.EVENTS_READ)
        scope = CameraScope.of(actor)
        query = (
            select(CameraEvent)
            .where(scope.clause(CameraEvent.camera_id))
            .order_by(CameraEvent.occurred_at.desc())
        )
        if filters.camera_id:
            query = query.where(CameraEvent.camera_id == filters.camera_id)
        if filters.type:
            query = query.where(CameraEvent.type == filters.type)
        if filters.zone:
            query = query.where(CameraEvent.zone == filters.zone)
        if filters.since:
            query = query.where(CameraEvent.occurred_at >= filters.since)
        if filters.until:
            query = query.where(CameraEvent.occurred_at < filters.until)
        if filters.min_confidence is not None:
            query = query.where(CameraEvent.confidence >= filters.min_confidence)
        with self._db.reader() as session:
            rows = session.scalars(query.limit(min(max(filters.limit, 1), 1000)))
            found = [CameraEventRead.model_validate(row) for row in rows]
        details: dict[str, object] = {
            k: str(v) for k, v in asdict(filters).items() if v is not None
        }
        details["results"] = [str(e.id) for e in found]
        details.update(scope.for_audit())
        self._audit.access(
            actor=actor, why=why, action="search", resource_type="camera_event", details=details
        )
        return found

    def get(self, *, event_id: UUID, actor: Principal, why: Justification) -> CameraEventRead:
        """One event, audited as a view."""
        actor.require(Permission.EVENTS_READ)
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="camera_event",
            resource_id=str(event_id),
        )
        with self._db.reader() as session:
            row = _event(session, event_id, CameraScope.of(actor))
            return CameraEventRead.model_validate(row)

    def evidence(
        self, *, event_id: UUID, index: int, actor: Principal, why: Justification
    ) -> dict[str, str]:
        """The evidence reference ``index`` of an event, audited as an evidence view."""
        actor.require(Permission.EVIDENCE_VIEW)
        self._audit.access(
            actor=actor,
            why=why,
            action="view-evidence",
            resource_type="camera_event",
            resource_id=str(event_id),
            details={"index": index},
        )
        with self._db.reader() as session:
            row = _event(session, event_id, CameraScope.of(actor))
            if not 0 <= index < len(row.evidence):
                raise NotFoundError(f"event {event_id} has no evidence #{index}")
            return {
                **{k: str(v) for k, v in row.evidence[index].items()},
                "camera_id": row.camera_id,
            }


def _event(session: Session, event_id: UUID, scope: CameraScope) -> CameraEvent:
    """The event ``event_id``; one outside ``scope`` is not found either."""
    row = session.scalar(
        select(CameraEvent).where(CameraEvent.id == event_id, scope.clause(CameraEvent.camera_id))
    )
    if row is None:
        raise NotFoundError(f"no event {event_id}")
    return row


__all__ = ["EventFilter", "EventQueries", "Justification"]
