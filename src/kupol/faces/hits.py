"""The hit review queue: an operator confirms or rejects each watchlist hit, and those
decisions show how each list's threshold performs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.faces.files import FaceFiles
from kupol.faces.model import EnrolledPhoto, FaceHit, HitStatus, Watchlist, WatchlistPerson
from kupol.faces.schemas import HitDecision, HitRead, ThresholdBand, ThresholdReport

MIN_DECISIONS_FOR_SUGGESTION = 10


class HitService:
    """List, view and decide hits."""

    def __init__(self, *, db: Database, audit: AuditLog, files: FaceFiles) -> None:
        self._db = db
        self._audit = audit
        self._files = files

    def list(
        self, *, actor: Principal, why: Justification, status: str | None = None, limit: int = 100
    ) -> list[HitRead]:
        """Hits, newest first; pending ones are the operator's queue."""
        actor.require(Permission.FACE_HITS_REVIEW)
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        if status is not None and status not in {s.value for s in HitStatus}:
            raise InvalidInputError(f"unknown hit status {status!r}")
        scope = CameraScope.of(actor)
        query = (
            select(FaceHit)
            .where(scope.clause(FaceHit.camera_id))
            .order_by(FaceHit.last_seen_at.desc())
            .limit(min(limit, 1000))
        )
        if status:
            query = query.where(FaceHit.status == status)
        with self._db.reader() as session:
            result = [_read(session, row) for row in session.scalars(query)]
        self._audit.access(
            actor=actor,
            why=why,
            action="search",
            resource_type="face_hit",
            details={"status": status, "returned": [h.id for h in result], **scope.for_audit()},
        )
        return result

    def get(self, *, hit_id: int, actor: Principal, why: Justification) -> HitRead:
        """One hit."""
        actor.require(Permission.FACE_HITS_REVIEW)
        with self._db.reader() as session:
            result = _read(session, _hit(session, hit_id, scope=CameraScope.of(actor)))
        self._audit.access(
            actor=actor, why=why, action="view", resource_type="face_hit", resource_id=str(hit_id)
        )
        return result

    def image(self, *, hit_id: int, which: str, actor: Principal, why: Justification) -> bytes:
        """The probe crop (``probe``) or the enrolled photo's crop (``enrolled``)."""
        actor.require(Permission.FACE_HITS_REVIEW)
        if which not in {"probe", "enrolled"}:
            raise InvalidInputError("which must be probe or enrolled")
        with self._db.reader() as session:
            hit = _hit(session, hit_id, scope=CameraScope.of(actor))
            if which == "probe":
                if not hit.probe_uri:
                    raise NotFoundError(
                        f"the camera's face of hit {hit_id} is not kept: deleted after the "
                        "retention window (rejected or never reviewed), or its crop was missing"
                    )
                uri = hit.probe_uri
            else:
                photo = session.get(EnrolledPhoto, hit.photo_id)
                if photo is None:
                    raise NotFoundError(f"enrolled photo of hit {hit_id} is gone")
                uri = photo.crop_uri
        data = self._files.read(uri)
        self._audit.access(
            actor=actor,
            why=why,
            action="view",
            resource_type="face_hit_image",
            resource_id=str(hit_id),
            details={"which": which},
        )
        return data

    def decide(self, *, hit_id: int, decision: HitDecision, actor: Principal) -> HitRead:
        """Confirm or reject a pending hit; the decision is kept with who, when and why."""
        actor.require(Permission.FACE_HITS_REVIEW)
        if decision.status == HitStatus.PENDING:
            raise InvalidInputError("a decision is confirmed or rejected")
        with self._db.unit_of_work() as session:
            hit = _hit(session, hit_id, scope=CameraScope.of(actor), lock=True)
            if hit.status != HitStatus.PENDING.value:
                raise ConflictError(f"hit {hit_id} was already {hit.status} by {hit.decided_by}")
            hit.status = decision.status.value
            hit.decided_by = actor.username
            hit.decided_at = utcnow()
            hit.decision_note = decision.note
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action=decision.status.value,
                    resource_type="face_hit",
                    resource_id=str(hit_id),
                    details={"note": decision.note, "similarity": hit.similarity},
                ),
                session=session,
            )
            session.flush()
            return _read(session, hit)

    def threshold_report(self, *, watchlist_id: int, actor: Principal) -> ThresholdReport:
        """How the list's decided hits spread over similarity, and a suggested threshold."""
        actor.require(Permission.WATCHLISTS_READ)
        with self._db.reader() as session:
            listing = session.get(Watchlist, watchlist_id)
            if listing is None:
                raise NotFoundError(f"no watchlist {watchlist_id}")
            decided = list(
                session.execute(
                    select(FaceHit.similarity, FaceHit.status).where(
                        FaceHit.watchlist_id == watchlist_id,
                        FaceHit.status != HitStatus.PENDING.value,
                    )
                )
            )
        return threshold_report(
            watchlist_id, listing.threshold, [(float(v), str(k)) for v, k in decided]
        )


def threshold_report(
    watchlist_id: int, threshold: float, decided: list[tuple[float, str]]
) -> ThresholdReport:
    """Bands of 0.01 similarity with confirmed/rejected counts, and a suggestion.

    Example:
        >>> r = threshold_report(1, 0.9, [(0.95, "confirmed"), (0.91, "rejected")])
        >>> r.confirmed, r.rejected, r.suggested_threshold
        (1, 1, None)
    """
    confirmed = [s for s, status in decided if status == HitStatus.CONFIRMED.value]
    rejected = [s for s, status in decided if status == HitStatus.REJECTED.value]
    bands: dict[int, list[int]] = {}
    for value, bucket in ((s, 0) for s in confirmed):
        bands.setdefault(int(value * 100), [0, 0])[bucket] += 1
    for value in rejected:
        bands.setdefault(int(value * 100), [0, 0])[1] += 1
    suggestion = None
    if len(decided) >= MIN_DECISIONS_FOR_SUGGESTION and confirmed:
        worst_rejected = max(rejected, default=0.0)
        suggestion = round(min(0.999, worst_rejected + 0.005), 3) if rejected else None
    return ThresholdReport(
        watchlist_id=watchlist_id,
        threshold=threshold,
        decided=len(decided),
        confirmed=len(confirmed),
        rejected=len(rejected),
        bands=[
            ThresholdBand(low=k / 100, high=(k + 1) / 100, confirmed=v[0], rejected=v[1])
            for k, v in sorted(bands.items())
        ],
        suggested_threshold=suggestion,
    )


def _hit(session: Session, hit_id: int, *, scope: CameraScope, lock: bool = False) -> FaceHit:
    """The hit ``hit_id``; one outside ``scope`` is not found either."""
    query = select(FaceHit).where(FaceHit.id == hit_id, scope.clause(FaceHit.camera_id))
    if lock:
        query = query.with_for_update()
    hit = session.scalars(query).first()
    if hit is None:
        raise NotFoundError(f"no face hit {hit_id}")
    return hit


def _read(session: Session, hit: FaceHit) -> HitRead:
    listing = session.get(Watchlist, hit.watchlist_id)
    person = session.get(WatchlistPerson, hit.person_id)
    return HitRead.model_validate(hit).model_copy(
        update={
            "watchlist": listing.name if listing else "",
            "person": person.name if person else "",
        }
    )
