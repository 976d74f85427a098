"""What an accident may be linked to, and the links: traffic violations recorded near it
around its time, incidents recorded there then, and body-camera clips whose device came near
it while recording. Each kind is shown and linked only by those who may read it (violations:
traffic officers; incidents and clips: field roles), and every link is audited.

Candidates carry no personal data — numbers, times, distances — and are suggestions: an
officer decides what belongs to the accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.evidence.links import nearest_approach
from kupol.evidence.model import EvidenceItem
from kupol.incidents.model import Incident
from kupol.roads.model import Accident

READ = {
    "violation": Permission.VIOLATIONS_READ,
    "evidence": Permission.EVIDENCE_VIEW,
    "incident": Permission.INCIDENTS_READ,
}
"""Who may see and link each kind."""


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """A record that may belong to the accident."""

    kind: str
    id: str
    at: datetime
    distance_m: float
    label: str


class AccidentLinks:
    """Candidates for an accident's links, and the links themselves."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def candidates(
        self, *, accident_id: int, actor: Principal, radius_m: float = 300.0, minutes: int = 60
    ) -> list[Candidate]:
        """Records of the kinds ``actor`` may read within ``radius_m`` and ``minutes`` of the
        accident, nearest first.

        Raises:
            InvalidInputError: a radius or window out of range, or an accident with no place.
        """
        actor.require(Permission.ROADS_READ)
        if not 10 <= radius_m <= 5000 or not 1 <= minutes <= 24 * 60:
            raise InvalidInputError("radius 10–5000 m and 1–1440 minutes")
        from kupol.traffic.model import Violation

        window = timedelta(minutes=minutes)
        found: list[Candidate] = []
        with self._db.reader() as session:
            accident = fetch(session, Accident, accident_id, what="accident")
            if accident.latitude is None or accident.longitude is None:
                raise InvalidInputError(f"accident {accident_id} has no place")
            place = (accident.latitude, accident.longitude)
            start, end = accident.occurred_at - window, accident.occurred_at + window
            if actor.can(READ["violation"]):
                rows = session.execute(
                    select(Violation.id, Violation.offence, Violation.occurred_at,
                           Camera.latitude, Camera.longitude)
                    .join(Camera, Camera.id == Violation.camera_id)
                    .where(Violation.occurred_at.between(start, end))
                )  # fmt: skip
                for vid, offence, at, lat, lon in rows:
                    gap = haversine_m(place, (lat, lon))
                    if gap <= radius_m:
                        found.append(_found("violation", vid, at, gap, offence))
            if actor.can(READ["incident"]):
                incidents = session.scalars(
                    select(Incident).where(
                        Incident.occurred_from <= end, Incident.occurred_to >= start
                    )
                )
                for incident in incidents:
                    gap = haversine_m(place, (incident.latitude, incident.longitude))
                    if gap <= radius_m + incident.radius_m:
                        found.append(
                            _found("incident", incident.id, incident.occurred_from, gap,
                                   incident.kind)
                        )  # fmt: skip
            if actor.can(READ["evidence"]):
                items = session.scalars(
                    select(EvidenceItem).where(
                        EvidenceItem.started_at <= end,
                        EvidenceItem.ended_at >= start,
                        EvidenceItem.purged_at.is_(None),
                    )
                )
                for item in items:
                    approach = nearest_approach(
                        item, latitude=place[0], longitude=place[1], start=start, end=end
                    )
                    if approach is not None and approach <= radius_m and item.started_at:
                        found.append(
                            _found("evidence", item.id, item.started_at, approach, item.category)
                        )
        return sorted(found, key=lambda c: (c.distance_m, c.at))

    def link(
        self, *, accident_id: int, kind: str, target: str, actor: Principal
    ) -> list[dict[str, str]]:
        """Link a violation, an evidence item or an incident to an accident (audited); the
        links after.

        Raises:
            InvalidInputError: an unknown kind or a target that is not a number.
            PermissionDeniedError: ``actor`` may not read that kind.
            NotFoundError: no such accident or record.
        """
        actor.require(Permission.ROADS_READ)
        if kind not in READ:
            raise InvalidInputError(f"kind must be one of {', '.join(READ)}")
        actor.require(READ[kind])  # only who may see a kind links it
        if not target.isdigit() or len(target) > 18:
            raise InvalidInputError("the record's number is a whole number")
        from kupol.traffic.model import Violation

        models: dict[str, type[Any]] = {
            "violation": Violation,
            "evidence": EvidenceItem,
            "incident": Incident,
        }
        model = models[kind]
        with self._db.unit_of_work() as session:
            accident = fetch(session, Accident, accident_id, what="accident", lock=True)
            if session.get(model, int(target)) is None:
                raise NotFoundError(f"no {kind} {target}")
            entry = {"kind": kind, "id": target}
            if entry not in (accident.links or []):
                accident.links = [*(accident.links or []), entry]
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action="link",
                    resource_type="accident", resource_id=str(accident_id), details=entry,
                ),
                session=session,
            )  # fmt: skip
            session.flush()
            return list(accident.links)


def _found(kind: str, key: int, at: datetime, distance: float, label: str) -> Candidate:
    return Candidate(kind=kind, id=str(key), at=at, distance_m=round(distance, 1), label=label)
