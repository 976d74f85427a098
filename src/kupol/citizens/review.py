"""Officers' review of citizens' reports: the queue (oldest first, under a stated purpose —
reports carry people's photos, plates and places), decisions with their reasons, and the
citizens' appeals, which put a rejected report back in the queue once.

A decision is ``confirmed`` (what the report shows happened: a traffic report becomes a
violation, any other an incident with the citizen's media linked to it; a violation's paid
fine earns the reward) or ``rejected`` with one of :data:`REJECT_REASONS`. A confirmed report
found wrong later is **overturned** — rejected with its reason, its case settled again (the
next valid report becomes the first) and its reward taken back. Every look and every decision
is audited.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.cameras.model import CameraKind
from kupol.cameras.schemas import CameraCreate
from kupol.cameras.service import CameraService
from kupol.citizens.accounts import mask
from kupol.citizens.consistency import Severity
from kupol.citizens.dedup import Report as DedupReport
from kupol.citizens.dedup import first_valid, group_reports
from kupol.citizens.payouts import CitizenRewards
from kupol.citizens.reports import ReportView, view_of
from kupol.citizens.reputation import PENALTIES, Outcome, Reputation, Verdict, reputation
from kupol.citizens.store import CitizenRow, ReportRow
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.service import SYSTEM
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.events.messages import EvidenceRef
from kupol.incidents.service import IncidentInput, IncidentService
from kupol.plates.formats import parse_plate
from kupol.traffic.messages import ViolationObserved
from kupol.traffic.model import Notice, Violation
from kupol.traffic.recorder import ViolationRecorder

REJECT_REASONS = (
    "no_violation", "not_visible", "duplicate", "too_old", "reused_media",
    "inconsistent_metadata", "outside_jurisdiction", "abusive",
)  # fmt: skip
OPEN = ("submitted", "appealed")
DECIDED = ("confirmed", "duplicate", "rejected")


@dataclass(frozen=True, kw_only=True)
class QueueItem:
    """A report as the officer sees it: the citizen by masked phone only, their standing, and
    the report's place in the queue."""

    report: ReportView
    citizen: str
    appeal: str | None
    reputation: float
    """The share of the citizen's reports found valid (weighted, new reporters start low)."""
    reports_decided: int
    priority: float
    """Reputation lowered by the intake's findings: the queue's order, highest first."""


VERDICTS = {
    "reused_media": Verdict.REUSED_IMAGE, "inconsistent_metadata": Verdict.FABRICATED_METADATA,
    "abusive": Verdict.SPAM,
}  # fmt: skip
"""Rejection reasons that count as abuse in a reporter's reputation (others: honest mistakes)."""


PORTAL_CAMERA = "citizen-portal"
"""The camera registry's entry for what citizens send in: their violations' source."""
INCIDENT_KINDS = {
    "public_order": "public_order", "lost_person": "missing_person",
    "suspicious_object": "other", "fraud_call": "other",
}  # fmt: skip
"""The incident kind a confirmed report of each (non-traffic) kind becomes."""
INCIDENT_WINDOW = timedelta(minutes=10)
UNMEASURED = frozenset({"speeding", "scooter_speeding", "scooter_sidewalk_speeding"})
"""Offences that need a measured speed: not from a citizen's photo or video."""


class CitizenReview:
    """The officers' side (see the module)."""

    def __init__(
        self, *, db: Database, audit: AuditLog,
        violations: ViolationRecorder | None = None, cameras: CameraService | None = None,
        incidents: IncidentService | None = None, rewards: CitizenRewards | None = None,
    ) -> None:  # fmt: skip
        self._db = db
        self._audit = audit
        self._violations = violations
        self._cameras = cameras
        self._incidents = incidents
        self._rewards = rewards

    def queue(self, *, actor: Principal, why: Justification, limit: int = 100) -> list[QueueItem]:
        """Reports waiting for a decision (new and appealed), oldest first (audited)."""
        actor.require(Permission.CITIZEN_REVIEW)
        with self._db.reader() as session:
            rows = session.execute(
                select(ReportRow, CitizenRow.phone)
                .join(CitizenRow, CitizenRow.id == ReportRow.citizen_id)
                .where(ReportRow.status.in_(OPEN))
                .order_by(ReportRow.submitted_at, ReportRow.id).limit(limit)
            ).all()  # fmt: skip
            standing = _standing(session, {r.citizen_id for r, _ in rows})
        self._audit.access(actor=actor, why=why, action="search",
                           resource_type="citizen_reports", resource_id="queue",
                           details={"count": len(rows)})  # fmt: skip
        items = []
        for r, phone in rows:
            rep = standing[r.citizen_id]
            score = rep.mean
            for finding in r.findings:
                score *= 1 - PENALTIES.get(Severity(str(finding.get("severity", "low"))), 0.0)
            items.append(QueueItem(report=view_of(r), citizen=mask(phone), appeal=r.appeal_text,
                                   reputation=round(rep.mean, 3), reports_decided=rep.reports,
                                   priority=round(score, 3)))  # fmt: skip
        # Appeals first (they waited once already), then by priority, then oldest first.
        items.sort(key=lambda q: (q.appeal is None, -q.priority, q.report.submitted_at))
        return items

    def decide(
        self, *, actor: Principal, report_id: int, outcome: str, reason: str | None = None,
        note: str = "", plate: str | None = None, offence: str | None = None,
    ) -> ReportView:  # fmt: skip
        """Confirm or reject a report (audited).

        Raises:
            NotFoundError: no such report.
            InvalidInputError: an unknown outcome, a rejection without one of the reasons.
            ConflictError: the report is decided (and not appealed).
        """
        actor.require(Permission.CITIZEN_REVIEW)
        if outcome not in ("confirmed", "rejected"):
            raise InvalidInputError("outcome must be confirmed or rejected")
        if outcome == "rejected" and reason not in REJECT_REASONS:
            raise InvalidInputError(f"a rejection needs its reason: {', '.join(REJECT_REASONS)}")
        note = note.strip()
        if len(note) > 2000:
            raise InvalidInputError("a note of at most 2,000 characters")
        with self._db.reader() as session:
            kind = session.scalar(select(ReportRow.kind).where(ReportRow.id == report_id))
        becomes_violation = (
            outcome == "confirmed" and kind == "traffic_violation" and self._violations is not None
        )
        if becomes_violation:
            self._check_offence(offence, plate)
        with self._db.unit_of_work() as session:
            row = session.get(ReportRow, report_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no report {report_id}")
            if row.status not in OPEN:
                raise ConflictError(f"report {report_id} is already {row.status}")
            if plate:
                try:
                    row.plate = parse_plate(plate).text
                except InvalidInputError as exc:
                    raise InvalidInputError(f"plate: {exc}") from exc
            row.status = outcome
            row.offence = offence if becomes_violation else None
            row.decided_by, row.decided_at = actor.username, utcnow()
            row.decision_note = (f"{reason}: {note}" if note else reason) if reason else note
            session.flush()
            _settle_case(session, row)
            case_key = row.case_key
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action=outcome,
                            resource_type="citizen_report", resource_id=str(report_id),
                            details={"reason": reason, "appealed": row.appeal_text is not None}),
                session=session,
            )  # fmt: skip
            view = view_of(row)
        if becomes_violation:
            view = self._violation_of_case(report_id, case_key)
        elif outcome == "confirmed" and kind in INCIDENT_KINDS and self._incidents is not None:
            view = self._incident_of_case(actor, report_id, case_key)
        return view

    def _incident_of_case(
        self, actor: Principal, report_id: int, case_key: str | None
    ) -> ReportView:
        """The case's incident — recorded by the officer from its first confirmed report, once
        — with every confirmed report's media linked to it."""
        assert self._incidents is not None
        with self._db.reader() as session:
            case = list(session.scalars(
                select(ReportRow).where(ReportRow.case_key == case_key)
                .order_by(ReportRow.submitted_at, ReportRow.id)))  # fmt: skip
        me = next(r for r in case if r.id == report_id)
        incident_id = next((r.incident_id for r in case if r.incident_id is not None), None)
        if incident_id is None:
            text = " ".join(me.description.split())
            incident = self._incidents.create(
                IncidentInput(
                    kind=INCIDENT_KINDS[me.kind],
                    title=f"Citizen's report {me.id}: {text[:120]}" if len(text) >= 3
                    else f"Citizen's report {me.id} ({me.kind})",
                    description=me.description, occurred_from=me.occurred_at - INCIDENT_WINDOW,
                    occurred_to=me.occurred_at + INCIDENT_WINDOW, latitude=me.lat,
                    longitude=me.lon,
                ),
                actor=actor,
            )  # fmt: skip
            incident_id = incident.id
        for item in me.evidence_ids:
            with contextlib.suppress(ConflictError):  # linked already (by place and time)
                self._incidents.link(incident_id=incident_id, item_id=int(item), actor=actor,
                                     how="citizen")  # fmt: skip
        with self._db.unit_of_work() as session:
            for r in session.scalars(select(ReportRow).where(ReportRow.case_key == case_key)):
                if r.status in ("confirmed", "duplicate"):
                    r.incident_id = incident_id
            row = session.get(ReportRow, report_id)
            assert row is not None
            return view_of(row)

    def overturn(
        self, *, actor: Principal, report_id: int, reason: str, note: str, on: date
    ) -> ReportView:
        """Reject a confirmed report after all (found fabricated, the wrong vehicle …): its
        case is settled again and its reward taken back; if the case's fine was paid, the
        report now first earns the reward instead.

        Raises:
            NotFoundError: no such report.
            InvalidInputError: no reason from :data:`REJECT_REASONS`, or no note.
            ConflictError: the report is not confirmed (nor a confirmed duplicate).
        """
        actor.require(Permission.CITIZEN_REVIEW)
        if reason not in REJECT_REASONS:
            raise InvalidInputError(f"give the reason: {', '.join(REJECT_REASONS)}")
        note = note.strip()
        if not 10 <= len(note) <= 2000:
            raise InvalidInputError("say what was found (10–2,000 characters)")
        with self._db.unit_of_work() as session:
            row = session.get(ReportRow, report_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no report {report_id}")
            if row.status not in ("confirmed", "duplicate"):
                raise ConflictError(f"report {report_id} is {row.status}: only a confirmed "
                                    "report is overturned")  # fmt: skip
            row.status = "rejected"
            row.decided_by, row.decided_at = actor.username, utcnow()
            row.decision_note = f"{reason}: overturned — {note}"
            session.flush()
            _settle_case(session, row)
            violation_id = row.violation_id
            paid = None
            if violation_id is not None:
                paid = session.execute(
                    select(Notice.paid_tenge, Notice.paid_on)
                    .where(Notice.violation_id == violation_id, Notice.payment == "paid")
                ).first()  # fmt: skip
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="overturn",
                            resource_type="citizen_report", resource_id=str(report_id),
                            details={"reason": reason}),
                session=session,
            )  # fmt: skip
        if self._rewards is not None:
            self._rewards.take_back(report_id=report_id, on=on,
                                    reason=f"the decision was overturned: {reason}")  # fmt: skip
            tenge, paid_on = paid if paid is not None else (None, None)
            if violation_id is not None and tenge is not None and paid_on is not None:
                self._rewards.on_paid(violation_id, tenge, paid_on)
        with self._db.reader() as session:
            found = session.get(ReportRow, report_id)
            assert found is not None
            return view_of(found)

    def _check_offence(self, offence: str | None, plate: str | None) -> None:
        assert self._violations is not None
        if not plate:
            raise InvalidInputError("a confirmed traffic report needs the plate read from it")
        if offence is None:
            raise InvalidInputError("a confirmed traffic report needs its offence")
        if offence in UNMEASURED:
            raise InvalidInputError(
                f"{offence} needs a measured speed: a citizen's photo or video cannot give one"
            )
        probe = ViolationObserved(camera_id=PORTAL_CAMERA, offence=offence, occurred_at=utcnow())
        self._violations.qualify(probe)  # an unknown offence is refused with the reason

    def _violation_of_case(self, report_id: int, case_key: str | None) -> ReportView:
        """The case's traffic violation: made from the first confirmed report, once; every
        confirmed report of the case points to it."""
        assert self._violations is not None
        self._ensure_portal_camera()
        with self._db.reader() as session:
            case = list(session.scalars(
                select(ReportRow).where(ReportRow.case_key == case_key)
                .order_by(ReportRow.submitted_at, ReportRow.id)))  # fmt: skip
        existing = next((r.violation_id for r in case if r.violation_id is not None), None)
        if existing is None:
            source = next(r for r in case if r.status == "confirmed" or r.id == report_id)
            message = ViolationObserved(
                camera_id=PORTAL_CAMERA, offence=source.offence or "",
                occurred_at=source.occurred_at, plate=source.plate, plate_confidence=1.0,
                track=f"citizen-report:{source.id}",
                measured={"citizen_report": source.id, "case": case_key,
                          "geo": {"lat": source.lat, "lon": source.lon, "from": "citizen"}},
                evidence=tuple(
                    EvidenceRef(kind="citizen_media", uri=f"vault:{m['evidence_id']}",
                                sha256=str(m["sha256"]), media_type=str(m["media_type"]))
                    for m in source.media
                ),
            )  # fmt: skip
            self._violations.record([message])
            with self._db.reader() as session:
                existing = session.scalar(
                    select(Violation.id).where(Violation.message_id == str(message.id))
                )
        with self._db.unit_of_work() as session:
            for r in session.scalars(select(ReportRow).where(ReportRow.case_key == case_key)):
                if r.status in ("confirmed", "duplicate"):
                    r.violation_id = existing
            row = session.get(ReportRow, report_id)
            assert row is not None
            return view_of(row)

    def _ensure_portal_camera(self) -> None:
        if self._cameras is None or PORTAL_CAMERA in self._cameras.known_ids():
            return
        with contextlib.suppress(ConflictError):  # another worker registered it
            self._cameras.register(
                camera=CameraCreate(id=PORTAL_CAMERA, name="Citizens' reports (portal)",
                                    kind=CameraKind.CITIZEN, latitude=51.1283, longitude=71.4305,
                                    enabled=False),
                actor=SYSTEM,
            )  # fmt: skip

    def appeal(self, *, actor: Principal, citizen_id: int, report_id: int, text: str) -> ReportView:
        """The citizen asks for a rejected report to be looked at again (once).

        Raises:
            NotFoundError: not one of the citizen's reports.
            ConflictError: not rejected, or appealed before.
            InvalidInputError: no reason given.
        """
        actor.require(Permission.CITIZEN_REPORT)
        text = text.strip()
        if not 10 <= len(text) <= 2000:
            raise InvalidInputError("say why the decision is wrong (10–2,000 characters)")
        with self._db.unit_of_work() as session:
            row = session.get(ReportRow, report_id)
            if row is None or row.citizen_id != citizen_id:
                raise NotFoundError(f"no report {report_id}")
            if row.status != "rejected":
                raise ConflictError("only a rejected report can be appealed")
            if row.appeal_text is not None:
                raise ConflictError("this report was appealed already")
            row.status, row.appeal_text, row.appealed_at = "appealed", text, utcnow()
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="appeal",
                            resource_type="citizen_report", resource_id=str(report_id)),
                session=session,
            )  # fmt: skip
            return view_of(row)


def _standing(session: Session, citizens: set[int]) -> dict[int, Reputation]:
    """Each citizen's reputation from their decided reports."""
    outcomes: dict[int, list[Outcome]] = {c: [] for c in citizens}
    decided = session.execute(
        select(ReportRow.citizen_id, ReportRow.status, ReportRow.decision_note,
               ReportRow.decided_at)
        .where(ReportRow.citizen_id.in_(citizens), ReportRow.status.in_(DECIDED))
    )  # fmt: skip
    for citizen_id, status, note, decided_at in decided:
        reason = (note or "").split(":", 1)[0]
        verdict = (
            Verdict.CONFIRMED if status in ("confirmed", "duplicate")
            else VERDICTS.get(reason, Verdict.REJECTED)
        )  # fmt: skip
        outcomes[citizen_id].append(Outcome(decided_at=decided_at or utcnow(), verdict=verdict))
    now = utcnow()
    return {c: reputation(found, now=now) for c, found in outcomes.items()}


CASE_SPAN = timedelta(minutes=30)
"""How far around a report its case's other reports are looked for (wider than any link)."""


def _settle_case(session: Session, row: ReportRow) -> None:
    """Group ``row`` with the reports of the same event and mark, among the confirmed ones,
    all but the first valid as ``duplicate`` (valid, but not first: no reward)."""
    around = select(ReportRow).where(
        ReportRow.kind == row.kind,
        ReportRow.occurred_at >= row.occurred_at - CASE_SPAN,
        ReportRow.occurred_at <= row.occurred_at + CASE_SPAN,
    )
    rows = {str(r.id): r for r in session.scalars(around)}
    cases = group_reports([_dedup_report(r) for r in rows.values()])
    mine = next(c for c in cases if str(row.id) in c.report_ids)
    validity = {
        i: rows[i].status in ("confirmed", "duplicate")
        for i in mine.report_ids
        if rows[i].status in ("confirmed", "duplicate", "rejected")
    }
    first = first_valid(mine, validity)
    for i in mine.report_ids:
        other = rows[i]
        other.case_key = mine.key[:64]
        if first is not None and i != first and other.status == "confirmed":
            other.status = "duplicate"
            other.decision_note = (
                other.decision_note + " — " if other.decision_note else ""
            ) + f"the same event as report {first}, reported first"
        elif i == first and other.status == "duplicate":
            other.status = "confirmed"


READ_PLATE_LINKS = 0.8
"""How sure the plate reader must be of a plate in a report's media for it to link the report
to others of the same vehicle before an officer has read the plate."""


def _plate_of(r: ReportRow) -> str | None:
    """The officer's plate, else the plate reader's if it is sure."""
    if r.plate:
        return r.plate
    best = next(iter(r.plates_read or []), None)
    if best is not None and float(str(best.get("confidence", 0))) >= READ_PLATE_LINKS:
        return str(best["text"])
    return None


def _dedup_report(r: ReportRow) -> DedupReport:
    return DedupReport(
        id=str(r.id), type=r.kind, occurred_at=r.occurred_at, submitted_at=r.submitted_at,
        lat=r.lat, lon=r.lon, plate=_plate_of(r),
        media_hash=r.media_hash % (1 << 64) if r.media_hash is not None else None,
    )  # fmt: skip
