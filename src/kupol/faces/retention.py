"""Retention: face templates and crops of sightings are deleted when their window ends.

The purge runs on a schedule inside kupol (``faces.purge_interval_s``) and on demand
(``kupol faces purge``). Each run writes one audit record with how many it deleted, so the
deletion itself is accountable. Hits keep their own probe crop: a hit under review is evidence
of an operator's decision, not part of the searchable pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.db import Database
from kupol.core.messages import utcnow
from kupol.faces.files import FaceFiles
from kupol.faces.model import FaceHit, FaceSighting, HitStatus

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass(frozen=True, kw_only=True)
class PurgeReport:
    """What a purge deleted."""

    sightings: int
    files: int
    before: datetime
    rejected_probes: int = 0
    """Faces of rejected hits (people wrongly matched) deleted after the retention window."""


class FacePurge:
    """Deletes expired sightings, their crops, and their index entries."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        files: FaceFiles,
        retention: timedelta,
        forget: Callable[[Sequence[int]], None] | None = None,
    ) -> None:
        self._retention = retention
        self._db = db
        self._audit = audit
        self._files = files
        self._forget = forget

    def purge(self, *, now: datetime | None = None, actor: str = "system:retention") -> PurgeReport:
        """Delete every sighting whose ``expires_at`` is at or before ``now``."""
        now = now or utcnow()
        deleted = files = 0
        while True:
            with self._db.unit_of_work() as session:
                rows = list(
                    session.execute(
                        select(FaceSighting.id, FaceSighting.crop_uri)
                        # Its own expiry, or the window now configured if that is shorter.
                        .where(
                            or_(
                                FaceSighting.expires_at <= now,
                                FaceSighting.seen_at <= now - self._retention,
                            )
                        )
                        .order_by(FaceSighting.id)
                        .limit(BATCH)
                    )
                )
                if not rows:
                    break
                ids = [r[0] for r in rows]
                session.execute(delete(FaceSighting).where(FaceSighting.id.in_(ids)))
            # Files go after the rows are gone: a crash in between can leave an orphan file,
            # never a row pointing at nothing.
            files += sum(self._files.delete(uri) for _, uri in rows)
            deleted += len(ids)
            if self._forget is not None:
                self._forget(ids)
        if deleted:
            self._audit.append(
                AuditRecord(
                    actor=actor,
                    action="purge",
                    resource_type="face_sighting",
                    details={"deleted": deleted, "files": files, "expired_before": now.isoformat()},
                )
            )
            log.info("faces: purged %d expired sightings", deleted)
        probes = self._purge_rejected_probes(now, actor)
        return PurgeReport(sightings=deleted, files=files, before=now, rejected_probes=probes)

    def _purge_rejected_probes(self, now: datetime, actor: str) -> int:
        """A rejected hit is a face of someone who is not on the list, and a hit nobody
        reviewed may be: neither is kept longer than any other sighting. The hit stays (its
        similarity and decision tune thresholds); its probe crop is deleted. Confirmed hits
        keep theirs (evidence of a decision, under the case's own retention)."""
        before = now - self._retention
        with self._db.unit_of_work() as session:
            rows = list(
                session.execute(
                    select(FaceHit.id, FaceHit.probe_uri).where(
                        FaceHit.probe_uri != "",
                        or_(
                            and_(
                                FaceHit.status == HitStatus.REJECTED.value,
                                FaceHit.decided_at <= before,
                            ),
                            and_(
                                FaceHit.status == HitStatus.PENDING.value,
                                FaceHit.last_seen_at <= before,
                            ),
                        ),
                    )
                )
            )
            if not rows:
                return 0
            session.execute(
                update(FaceHit)
                .where(FaceHit.id.in_([r[0] for r in rows]))
                .values(probe_uri="", probe_sha256="")
            )
            self._audit.append(
                AuditRecord(
                    actor=actor,
                    action="purge",
                    resource_type="face_hit_probe",
                    details={"hits": [r[0] for r in rows], "decided_before": before.isoformat()},
                ),
                session=session,
            )
        for _, uri in rows:
            self._files.delete(uri)
        return len(rows)

    async def run_every(self, interval_s: float, stop: asyncio.Event) -> None:
        """Purge now and then every ``interval_s`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.purge)
            except Exception:
                log.exception("faces: purge failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
