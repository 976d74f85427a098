"""Incidents: recorded by hand or from an alert, each with its place, time window and radius.
Body-camera clips whose device came within the radius during the window are linked to it
automatically — when the incident is recorded, and when such a clip arrives later — and
investigators link or unlink others by hand. Alerts raised near it then are listed too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.alerts.model import Alert
from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.evidence.links import nearest_approach
from kupol.evidence.model import EvidenceItem
from kupol.incidents.model import Incident, IncidentEvidence

KINDS = (
    "traffic_accident",
    "pedestrian_hit",
    "assault",
    "theft",
    "public_order",
    "domestic",
    "missing_person",
    "other",
)
SLACK = timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True)
class IncidentInput:
    """What is known of an incident when it is recorded."""

    kind: str
    title: str
    occurred_from: datetime
    occurred_to: datetime
    latitude: float
    longitude: float
    radius_m: float = 300.0
    description: str | None = None
    case_number: str | None = None

    def check(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        if not 3 <= len(self.title.strip()) <= 300:
            raise InvalidInputError("give a title of 3 to 300 characters")
        for value in (self.occurred_from, self.occurred_to):
            if value.tzinfo is None:
                raise InvalidInputError("times need their UTC offset")
        if self.occurred_to < self.occurred_from:
            raise InvalidInputError("occurred_to is before occurred_from")
        if self.occurred_to - self.occurred_from > timedelta(days=2):
            raise InvalidInputError("an incident's window is at most two days")
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise InvalidInputError("latitude and longitude are out of range")
        if not 10 <= self.radius_m <= 5000:
            raise InvalidInputError("radius_m is 10 to 5,000 metres")


@dataclass(frozen=True, kw_only=True)
class IncidentView:
    id: int
    number: str | None
    kind: str
    title: str
    description: str | None
    occurred_from: datetime
    occurred_to: datetime
    latitude: float
    longitude: float
    radius_m: float
    case_number: str | None
    alert_id: int | None
    status: str
    created_by: str
    created_at: datetime
    evidence: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)


class IncidentService:
    """Records incidents and links evidence to them."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def _record(
        self,
        session: Session,
        actor: str,
        roles: tuple[str, ...],
        action: str,
        incident: Incident,
        details: dict[str, object],
    ) -> None:
        self._audit.append(
            AuditRecord(
                actor=actor,
                roles=roles,
                action=action,
                resource_type="incident",
                resource_id=str(incident.id),
                case_number=incident.case_number,
                details={"number": incident.number, **details},
            ),
            session=session,
        )

    def create(
        self, data: IncidentInput, *, actor: Principal, alert_id: int | None = None
    ) -> IncidentView:
        """Record an incident and link the clips that saw it."""
        actor.require(Permission.INCIDENTS_WRITE)
        data.check()
        with self._db.unit_of_work() as session:
            incident = Incident(
                kind=data.kind,
                title=data.title.strip(),
                description=data.description,
                occurred_from=data.occurred_from,
                occurred_to=data.occurred_to,
                latitude=data.latitude,
                longitude=data.longitude,
                radius_m=data.radius_m,
                case_number=data.case_number,
                alert_id=alert_id,
                status="open",
                created_by=actor.username,
            )
            session.add(incident)
            session.flush()
            incident.number = f"INC-{incident.created_at:%Y}-{incident.id:06d}"
            self._record(session, actor.username, actor.roles, "incident.create", incident, {})
            candidates = session.scalars(
                select(EvidenceItem).where(
                    EvidenceItem.started_at <= data.occurred_to + SLACK,
                    EvidenceItem.ended_at >= data.occurred_from - SLACK,
                    EvidenceItem.purged_at.is_(None),
                )
            )
            for item in candidates:
                self._maybe_link(session, incident, item)
            return self._view(session, incident)

    def from_alert(
        self,
        *,
        alert_id: int,
        kind: str,
        title: str,
        actor: Principal,
        minutes: float = 5.0,
        radius_m: float = 300.0,
    ) -> IncidentView:
        """An incident at an alert's camera, around the time it was raised."""
        actor.require(Permission.INCIDENTS_WRITE)
        with self._db.reader() as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise NotFoundError(f"no alert {alert_id}")
            camera = session.get(Camera, alert.camera_id)
            if camera is None:
                raise NotFoundError(f"the camera of alert {alert_id} is gone")
            span = timedelta(minutes=minutes)
            data = IncidentInput(
                kind=kind,
                title=title,
                occurred_from=alert.raised_at - span,
                occurred_to=alert.last_event_at + span,
                latitude=camera.latitude,
                longitude=camera.longitude,
                radius_m=radius_m,
            )
        return self.create(data, actor=actor, alert_id=alert_id)

    def link_new_item(self, session: Session, item: EvidenceItem) -> None:
        """The vault's ingest hook: link a new clip to the open incidents it saw."""
        if item.started_at is None or item.ended_at is None or not item.gps:
            return
        incidents = session.scalars(
            select(Incident).where(
                Incident.status == "open",
                Incident.occurred_from <= item.ended_at + SLACK,
                Incident.occurred_to >= item.started_at - SLACK,
            )
        )
        for incident in incidents:
            self._maybe_link(session, incident, item)

    def _maybe_link(self, session: Session, incident: Incident, item: EvidenceItem) -> None:
        distance = nearest_approach(
            item,
            latitude=incident.latitude,
            longitude=incident.longitude,
            start=incident.occurred_from,
            end=incident.occurred_to,
            slack_s=SLACK.total_seconds(),
        )
        if distance is None or distance > incident.radius_m:
            return
        session.add(
            IncidentEvidence(
                incident_id=incident.id,
                item_id=item.id,
                how="auto",
                distance_m=distance,
                linked_by="system",
            )
        )
        self._record(
            session,
            "system",
            ("system",),
            "incident.link",
            incident,
            {"item": item.id, "how": "auto", "distance_m": distance},
        )

    def link(
        self, *, incident_id: int, item_id: int, actor: Principal, on: bool = True,
        how: str = "manual",
    ) -> IncidentView:  # fmt: skip
        """Link (or unlink) an item by hand (``how``: ``citizen`` for a citizen's media)."""
        actor.require(Permission.INCIDENTS_WRITE)
        with self._db.unit_of_work() as session:
            incident = _incident(session, incident_id)
            if session.get(EvidenceItem, item_id) is None:
                raise NotFoundError(f"no evidence item {item_id}")
            link = session.scalar(
                select(IncidentEvidence).where(
                    IncidentEvidence.incident_id == incident_id, IncidentEvidence.item_id == item_id
                )
            )
            if on and link is None:
                session.add(
                    IncidentEvidence(
                        incident_id=incident_id,
                        item_id=item_id,
                        how=how,
                        linked_by=actor.username,
                    )
                )
            elif not on and link is not None:
                session.delete(link)
            elif on:
                raise ConflictError(f"item {item_id} is linked to {incident.number} already")
            else:
                raise NotFoundError(f"item {item_id} is not linked to {incident.number}")
            self._record(
                session,
                actor.username,
                actor.roles,
                "incident.link" if on else "incident.unlink",
                incident,
                {"item": item_id, "how": how},
            )
            session.flush()
            return self._view(session, incident)

    def close(self, *, incident_id: int, actor: Principal) -> IncidentView:
        actor.require(Permission.INCIDENTS_WRITE)
        with self._db.unit_of_work() as session:
            incident = _incident(session, incident_id)
            if incident.status == "closed":
                raise ConflictError(f"{incident.number} is closed already")
            incident.status = "closed"
            self._record(session, actor.username, actor.roles, "incident.close", incident, {})
            return self._view(session, incident)

    def get(self, *, incident_id: int, actor: Principal) -> IncidentView:
        actor.require(Permission.INCIDENTS_READ)
        with self._db.reader() as session:
            return self._view(session, _incident(session, incident_id))

    def incidents(
        self, *, actor: Principal, status: str | None = None, limit: int = 200
    ) -> list[IncidentView]:
        actor.require(Permission.INCIDENTS_READ)
        with self._db.reader() as session:
            query = select(Incident).order_by(Incident.occurred_from.desc())
            if status:
                query = query.where(Incident.status == status)
            return [
                self._view(session, i, details=False)
                for i in session.scalars(query.limit(max(1, min(limit, 1000))))
            ]

    def of_item(self, *, item_id: int, actor: Principal) -> list[dict[str, Any]]:
        """The incidents an evidence item is linked to."""
        actor.require(Permission.INCIDENTS_READ)
        with self._db.reader() as session:
            rows = session.execute(
                select(Incident, IncidentEvidence)
                .join(IncidentEvidence, IncidentEvidence.incident_id == Incident.id)
                .where(IncidentEvidence.item_id == item_id)
                .order_by(Incident.occurred_from)
            )
            return [
                {
                    "id": i.id,
                    "number": i.number,
                    "title": i.title,
                    "kind": i.kind,
                    "status": i.status,
                    "how": link.how,
                    "distance_m": link.distance_m,
                }
                for i, link in rows
            ]

    def _view(self, session: Session, incident: Incident, *, details: bool = True) -> IncidentView:
        evidence: list[dict[str, Any]] = []
        alerts: list[dict[str, Any]] = []
        if details:
            rows = session.execute(
                select(IncidentEvidence, EvidenceItem)
                .join(EvidenceItem, EvidenceItem.id == IncidentEvidence.item_id)
                .where(IncidentEvidence.incident_id == incident.id)
                .order_by(EvidenceItem.started_at)
            )
            evidence = [
                {
                    "item_id": item.id,
                    "filename": item.filename,
                    "category": item.category,
                    "device_id": item.device_id,
                    "officer": item.officer,
                    "started_at": item.started_at,
                    "ended_at": item.ended_at,
                    "how": link.how,
                    "distance_m": link.distance_m,
                    "linked_by": link.linked_by,
                }
                for link, item in rows
            ]
            near = session.execute(
                select(Alert, Camera.latitude, Camera.longitude)
                .join(Camera, Camera.id == Alert.camera_id)
                .where(
                    Alert.raised_at >= incident.occurred_from - SLACK,
                    Alert.raised_at <= incident.occurred_to + SLACK,
                )
                .order_by(Alert.raised_at)
            )
            for alert, lat, lon in near:
                distance = haversine_m((lat, lon), (incident.latitude, incident.longitude))
                if distance <= incident.radius_m:
                    alerts.append(
                        {
                            "alert_id": alert.id,
                            "camera_id": alert.camera_id,
                            "event_type": alert.event_type,
                            "raised_at": alert.raised_at,
                            "distance_m": round(distance, 1),
                        }
                    )
        return IncidentView(
            id=incident.id,
            number=incident.number,
            kind=incident.kind,
            title=incident.title,
            description=incident.description,
            occurred_from=incident.occurred_from,
            occurred_to=incident.occurred_to,
            latitude=incident.latitude,
            longitude=incident.longitude,
            radius_m=incident.radius_m,
            case_number=incident.case_number,
            alert_id=incident.alert_id,
            status=incident.status,
            created_by=incident.created_by,
            created_at=incident.created_at,
            evidence=evidence,
            alerts=alerts,
        )


def _incident(session: Session, incident_id: int) -> Incident:
    return fetch(session, Incident, incident_id, what="incident")
