"""The review queue: a traffic officer approves each violation, signing the decision with their
X.509 certificate, or rejects it with a reason. Nothing reaches an owner without that decision.

Approving signs a document of the decision (:mod:`kupol.traffic.signing`) — the violation,
its qualification, the plate, every evidence file's SHA-256, the officer and the moment — and
makes the notice (:mod:`kupol.traffic.notices`) in the same transaction. The officer may
correct the plate the camera read, or give the plate when none was read; the correction is in
the signed document and the audit log. A violation without a plate of its own takes the plate
the camera's reader voted for its vehicle's track, when there is one.

Rejections name a reason from a fixed list (and a note, required for ``other``), so that
:meth:`ReviewService.stats` can count them per rule and per camera: a rule or a camera that
is often wrong shows up.

Violations hold plates and pictures of vehicles and people: every look is audited with its
purpose.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.faces.files import FaceFiles
from kupol.plates.formats import PlateKind, parse_plate
from kupol.plates.model import PlateSighting
from kupol.traffic.model import Notice, Violation
from kupol.traffic.notices import NoticeService
from kupol.traffic.signing import DecisionSigning

REJECT_REASONS = (
    "plate_unreadable",
    "plate_misread",
    "not_a_violation",
    "emergency_vehicle",
    "evidence_insufficient",
    "camera_fault",
    "duplicate",
    "other",
)
STATUSES = ("pending", "approved", "rejected")
MAX_PAGE = 200


@dataclass(frozen=True, kw_only=True)
class EvidenceItem:
    """One evidence file of a violation (fetched by its index)."""

    index: int
    kind: str
    media_type: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class ViolationView:
    """A violation as the review queue shows it."""

    id: int
    camera_id: str
    offence: str
    occurred_at: datetime
    plate: str | None
    plate_confidence: float | None
    plate_source: str | None
    """camera (read with the violation), sighting (the track's voted plate) or officer."""
    measured: dict[str, Any]
    evidence: list[EvidenceItem]
    article: str
    part: str | None
    title: str
    fine_mrp: float
    mrp_tenge: int
    fine_tenge: int
    status: str
    decided_by: str | None
    decided_at: datetime | None
    reject_reason: str | None
    decision_note: str | None
    signature: str | None
    notice_id: int | None
    notice_number: str | None


@dataclass(frozen=True, kw_only=True)
class RuleCameraStats:
    """Decisions on one rule at one camera."""

    offence: str
    camera_id: str
    pending: int
    approved: int
    rejected: int
    reasons: dict[str, int]

    @property
    def rejected_share(self) -> float | None:
        """Rejected among decided; None before any decision."""
        decided = self.approved + self.rejected
        return None if decided == 0 else self.rejected / decided


class ReviewService:
    """The officers' queue and their decisions."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        files: FaceFiles,
        signing: DecisionSigning,
        notices: NoticeService,
    ) -> None:
        self._db = db
        self._audit = audit
        self._files = files
        self._signing = signing
        self._notices = notices
        self.vault_reader: Callable[[int], bytes] | None = None
        """Reads an evidence vault item's bytes: a citizen's photo or video backs a violation
        as ``vault:<item id>`` (wired by the composition root)."""

    def _read(self, uri: str) -> bytes:
        """An evidence file's bytes: the camera's (a path under the evidence folder) or the
        vault's (``vault:<item id>``)."""
        if uri.startswith("vault:"):
            if self.vault_reader is None:
                raise NotFoundError("the evidence vault is not wired to the traffic review")
            try:
                return self.vault_reader(int(uri.removeprefix("vault:")))
            except ValueError:
                raise NotFoundError(f"no evidence {uri!r}") from None
        return self._files.read(uri)

    def queue(
        self,
        *,
        actor: Principal,
        why: Justification,
        status: str = "pending",
        camera_id: str | None = None,
        offence: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[ViolationView]]:
        """Violations in ``status``, oldest first for pending (first in, first decided),
        newest first otherwise; and how many match. Audited."""
        actor.require(Permission.VIOLATIONS_READ)
        if status not in STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE}")
        if offset < 0:
            raise InvalidInputError("offset cannot be negative")
        scope = CameraScope.of(actor)
        query = select(Violation).where(
            Violation.status == status, scope.clause(Violation.camera_id)
        )
        if camera_id:
            query = query.where(Violation.camera_id == camera_id)
        if offence:
            query = query.where(Violation.offence == offence)
        order = (
            (Violation.occurred_at, Violation.id)
            if status == "pending"
            else (Violation.decided_at.desc(), Violation.id.desc())
        )
        with self._db.reader() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))
            found = _views(session, rows)
        self._audit.access(
            actor=actor,
            why=why,
            action="list",
            resource_type="traffic_violation",
            details={"status": status, "returned": [v.id for v in found], **scope.for_audit()},
        )
        return total, found

    def get(self, *, violation_id: int, actor: Principal, why: Justification) -> ViolationView:
        """One violation with its evidence list (audited)."""
        actor.require(Permission.VIOLATIONS_READ)
        with self._db.reader() as session:
            [view] = _views(session, [_violation(session, violation_id, actor)])
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="traffic_violation",
            resource_id=str(violation_id),
        )
        return view

    def evidence(
        self, *, violation_id: int, index: int, actor: Principal, why: Justification
    ) -> tuple[bytes, str, bool]:
        """One evidence file: its bytes, media type and whether it still matches the SHA-256
        recorded when it was made (audited)."""
        actor.require(Permission.VIOLATIONS_READ)
        with self._db.reader() as session:
            row = _violation(session, violation_id, actor)
            items = list(row.evidence)
        if not 0 <= index < len(items):
            raise NotFoundError(f"violation {violation_id} has no evidence {index}")
        item = items[index]
        data = self._read(str(item["uri"]))
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="traffic_evidence",
            resource_id=f"{violation_id}/{index}",
            details={"kind": item.get("kind"), "sha256": item.get("sha256")},
        )
        intact = hashlib.sha256(data).hexdigest() == item.get("sha256")
        return data, str(item.get("media_type") or "application/octet-stream"), intact

    def approve(
        self,
        *,
        violation_id: int,
        actor: Principal,
        plate: str | None = None,
        note: str | None = None,
    ) -> ViolationView:
        """Approve and sign; makes the notice. A plate given here replaces the camera's.

        Raises:
            ConflictError: the violation was decided already.
            InvalidInputError: there is no plate to fine, or the one given is no plate.
            NotFoundError: the officer holds no signing certificate (``no_certificate``).
        """
        actor.require(Permission.VIOLATIONS_REVIEW)
        signer = self._signing.signer(actor.username)
        corrected = None
        if plate is not None:
            reading = parse_plate(plate)
            if reading.kind == PlateKind.INVALID:
                raise InvalidInputError(f"{plate!r} is not a plate")
            corrected = reading.text
        with self._db.unit_of_work() as session:
            row = _violation(session, violation_id, actor, lock=True)
            _undecided(row)
            self._check_evidence(row)
            camera_plate, source = _plate_of(session, row)
            final = corrected or camera_plate
            if final is None:
                raise InvalidInputError(
                    "no plate was read: give the plate from the evidence, or reject it "
                    "(plate_unreadable)"
                )
            now = utcnow()
            row.plate = final
            row.status, row.decided_by, row.decided_at = "approved", actor.username, now
            row.decision_note = (note or "").strip() or None
            row.signed = self._signing.sign(
                {
                    "violation": row.id,
                    "decision": "approved",
                    "camera_id": row.camera_id,
                    "offence": row.offence,
                    "occurred_at": row.occurred_at.isoformat(),
                    "plate": final,
                    "plate_source": "officer"
                    if corrected and corrected != camera_plate
                    else source,
                    "article": row.article,
                    "part": row.part,
                    "fine_mrp": row.fine_mrp,
                    "fine_tenge": row.fine_tenge,
                    "measured": row.measured,
                    "evidence_sha256": [e.get("sha256") for e in row.evidence],
                    "officer": actor.username,
                    "decided_at": now.isoformat(),
                    "note": row.decision_note,
                },
                signer,
            )
            session.flush()
            notice = self._notices.issue(session, row)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="approve",
                    resource_type="traffic_violation",
                    resource_id=str(row.id),
                    details={
                        "plate": final,
                        "camera_plate": camera_plate,
                        "signature": row.signed["signature"],
                        "certificate_sha256": row.signed["certificate_sha256"],
                        "notice": notice.number,
                    },
                ),
                session=session,
            )
            [view] = _views(session, [row])
            return view

    def _check_evidence(self, row: Violation) -> None:
        """Refuse to sign a violation without evidence, or whose files are gone or changed
        since they were made: a signature must cover what the officer saw."""
        if not row.evidence:
            raise ConflictError(
                f"violation {row.id} has no evidence files: it cannot be approved (reject it "
                "as evidence_insufficient)"
            )
        for index, item in enumerate(row.evidence):
            try:
                data = self._read(str(item["uri"]))
            except NotFoundError:
                raise ConflictError(
                    f"evidence {index} of violation {row.id} is missing: it cannot be approved"
                ) from None
            if hashlib.sha256(data).hexdigest() != item.get("sha256"):
                raise ConflictError(
                    f"evidence {index} of violation {row.id} no longer matches its SHA-256: it "
                    "cannot be approved"
                )

    def reject(
        self, *, violation_id: int, actor: Principal, reason: str, note: str | None = None
    ) -> ViolationView:
        """Reject with one of :data:`REJECT_REASONS` (``other`` needs a note)."""
        actor.require(Permission.VIOLATIONS_REVIEW)
        if reason not in REJECT_REASONS:
            raise InvalidInputError(f"reason must be one of {', '.join(REJECT_REASONS)}")
        text = (note or "").strip()
        if reason == "other" and len(text) < 5:
            raise InvalidInputError("say why in a note (at least 5 characters) for 'other'")
        with self._db.unit_of_work() as session:
            row = _violation(session, violation_id, actor, lock=True)
            _undecided(row)
            row.status, row.decided_by, row.decided_at = "rejected", actor.username, utcnow()
            row.reject_reason, row.decision_note = reason, text or None
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="reject",
                    resource_type="traffic_violation",
                    resource_id=str(row.id),
                    details={"reason": reason, "note": text or None},
                ),
                session=session,
            )
            session.flush()
            [view] = _views(session, [row])
            return view

    def verify(self, *, violation_id: int, actor: Principal) -> dict[str, Any]:
        """Whether the stored decision's signature holds (the officer's certificate, chained to
        a trusted CA, valid when they decided; or the keyed signature of an older decision), the
        record still says what was signed, and every evidence file still has the SHA-256 the
        signature covers."""
        actor.require(Permission.VIOLATIONS_READ)
        with self._db.reader() as session:
            row = _violation(session, violation_id, actor)
            signed, evidence = row.signed, list(row.evidence)
            notice = session.scalar(select(Notice).where(Notice.violation_id == violation_id))
            current = {
                "decision": row.status,
                "camera_id": row.camera_id,
                "offence": row.offence,
                "occurred_at": row.occurred_at.isoformat(),
                "plate": row.plate,
                "article": row.article,
                "part": row.part,
                "fine_mrp": row.fine_mrp,
                "fine_tenge": row.fine_tenge,
                "officer": row.decided_by,
            }
            notice_terms = None if notice is None else (notice.plate, notice.amount_tenge)
        if signed is None:
            raise ConflictError(f"violation {violation_id} has no signed decision")
        files = []
        for item in evidence:
            try:
                data = self._read(str(item["uri"]))
                files.append(hashlib.sha256(data).hexdigest() == item.get("sha256"))
            except NotFoundError:
                files.append(False)
        document = signed.get("document", {})
        signed_sums = document.get("evidence_sha256")
        changed = sorted(k for k, v in current.items() if document.get(k) != v)
        if notice_terms is not None and notice_terms != (
            document.get("plate"),
            document.get("fine_tenge"),
        ):
            changed.append("notice")
        verdict = self._signing.verify(signed)
        return {
            "signature_valid": verdict.ok,
            "signature_reason": verdict.reason,
            "algorithm": signed.get("algorithm"),
            "signed_by": verdict.signer or document.get("officer"),
            "certificate_sha256": verdict.certificate_sha256 or None,
            "issuer": verdict.issuer or None,
            "record_matches_signature": not changed,
            "changed_since_signing": changed,
            "evidence_matches_signature": signed_sums == [e.get("sha256") for e in evidence],
            "evidence_files_intact": files,
            "key_id": signed.get("key_id"),
        }

    def stats(
        self,
        *,
        actor: Principal,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RuleCameraStats]:
        """Decisions per rule and camera of the actor's scope, with rejections by reason (no
        personal data)."""
        actor.require(Permission.TRAFFIC_STATS)
        query = select(
            Violation.offence,
            Violation.camera_id,
            Violation.status,
            Violation.reject_reason,
            func.count(),
        ).group_by(
            Violation.offence, Violation.camera_id, Violation.status, Violation.reject_reason
        )
        query = query.where(CameraScope.of(actor).clause(Violation.camera_id))
        if since is not None:
            query = query.where(Violation.occurred_at >= since)
        if until is not None:
            query = query.where(Violation.occurred_at < until)
        counts: dict[tuple[str, str], Counter[str]] = {}
        reasons: dict[tuple[str, str], Counter[str]] = {}
        with self._db.reader() as session:
            for offence, camera, status, reason, n in session.execute(query):
                key = (offence, camera)
                counts.setdefault(key, Counter())[status] += n
                if reason:
                    reasons.setdefault(key, Counter())[reason] += n
        return [
            RuleCameraStats(
                offence=offence,
                camera_id=camera,
                pending=c["pending"],
                approved=c["approved"],
                rejected=c["rejected"],
                reasons=dict(reasons.get((offence, camera), Counter()).most_common()),
            )
            for (offence, camera), c in sorted(counts.items())
        ]


def _violation(
    session: Session, violation_id: int, actor: Principal, *, lock: bool = False
) -> Violation:
    """The violation ``violation_id``; one of a camera outside the actor's scope is not found
    either (``lock``: locked for update)."""
    query = select(Violation).where(
        Violation.id == violation_id, CameraScope.of(actor).clause(Violation.camera_id)
    )
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFoundError(f"no violation {violation_id}")
    return row


def _undecided(row: Violation) -> None:
    if row.status != "pending":
        raise ConflictError(f"violation {row.id} was {row.status} by {row.decided_by} already")


def _plate_of(session: Session, row: Violation) -> tuple[str | None, str | None]:
    """The violation's plate and where it came from."""
    if row.plate:
        return row.plate, "camera"
    if row.track:
        found = session.execute(
            select(PlateSighting.plate)
            .where(PlateSighting.track == row.track)
            .order_by(PlateSighting.confidence.desc())
            .limit(1)
        ).scalar()
        if found:
            return found, "sighting"
    return None, None


def _voted_plates(session: Session, tracks: Sequence[str]) -> dict[str, str]:
    """The surest plate the cameras read on each of ``tracks`` (one query)."""
    if not tracks:
        return {}
    found: dict[str, tuple[float, str]] = {}
    rows = session.execute(
        select(PlateSighting.track, PlateSighting.plate, PlateSighting.confidence).where(
            PlateSighting.track.in_(set(tracks))
        )
    )
    for track, plate, confidence in rows:
        if track is not None and (track not in found or confidence > found[track][0]):
            found[track] = (confidence, plate)
    return {track: plate for track, (_, plate) in found.items()}


def _views(session: Session, rows: Sequence[Violation]) -> list[ViolationView]:
    ids = [r.id for r in rows]
    notices = {
        n.violation_id: n
        for n in session.scalars(select(Notice).where(Notice.violation_id.in_(ids)))
    }
    voted = _voted_plates(session, [r.track for r in rows if not r.plate and r.track])
    views = []
    for row in rows:
        if row.plate:
            plate, source = row.plate, "camera"
        elif row.track and row.track in voted:
            plate, source = voted[row.track], "sighting"
        else:
            plate, source = None, None
        if row.status == "approved" and row.signed:
            source = row.signed.get("document", {}).get("plate_source", source)
        notice = notices.get(row.id)
        views.append(
            ViolationView(
                id=row.id,
                camera_id=row.camera_id,
                offence=row.offence,
                occurred_at=row.occurred_at,
                plate=plate,
                plate_confidence=row.plate_confidence if source == "camera" else None,
                plate_source=source,
                measured=dict(row.measured),
                evidence=[
                    EvidenceItem(
                        index=i,
                        kind=str(e.get("kind")),
                        media_type=str(e.get("media_type")),
                        sha256=str(e.get("sha256")),
                    )
                    for i, e in enumerate(row.evidence)
                ],
                article=row.article,
                part=row.part,
                title=row.title,
                fine_mrp=row.fine_mrp,
                mrp_tenge=row.mrp_tenge,
                fine_tenge=row.fine_tenge,
                status=row.status,
                decided_by=row.decided_by,
                decided_at=row.decided_at,
                reject_reason=row.reject_reason,
                decision_note=row.decision_note,
                signature=row.signed.get("signature") if row.signed else None,
                notice_id=notice.id if notice else None,
                notice_number=notice.number if notice else None,
            )
        )
    return views
