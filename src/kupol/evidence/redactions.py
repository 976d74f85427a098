"""Redaction jobs: find faces and plates through a clip (in the background), let the officer
add regions and keep tracks visible, then render the redacted copy — a new evidence item
linked to its original, with custody entries on both."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
from sqlalchemy import select

from kupol.core.audit import Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.evidence import redaction
from kupol.evidence.model import EvidenceItem, Redaction
from kupol.evidence.service import EvidenceVault, Metadata

log = logging.getLogger(__name__)
VIDEO_TYPES = ("video/",)
Finder = redaction.BoxFinder


@dataclass(frozen=True, kw_only=True)
class RedactionView:
    id: int
    item_id: int
    status: str
    every_s: float
    progress: float
    tracks: list[dict[str, Any]]
    kept: list[str]
    result_item_id: int | None
    error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class Redactions:
    """Redaction jobs over the vault's clips."""

    def __init__(
        self, *, db: Database, vault: EvidenceVault, finders: Callable[[], dict[str, Finder]]
    ) -> None:
        self._db = db
        self._vault = vault
        self._finders = finders
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ jobs
    def start(
        self, *, item_id: int, actor: Principal, why: Justification, every_s: float = 0.2
    ) -> RedactionView:
        """Begin a redaction of a clip: faces and plates are searched in the background."""
        actor.require(Permission.EVIDENCE_EXPORT)
        if not 0.04 <= every_s <= 2.0:
            raise InvalidInputError("sample every 0.04 to 2 seconds")
        with self._db.unit_of_work() as session:
            item = session.get(EvidenceItem, item_id)
            if item is None:
                raise NotFoundError(f"no evidence item {item_id}")
            if item.purged_at is not None:
                raise ConflictError(f"evidence item {item_id} was purged")
            if not item.media_type.startswith(VIDEO_TYPES):
                raise InvalidInputError(f"evidence item {item_id} is not a video clip")
            job = Redaction(
                item_id=item_id, status="detecting", every_s=every_s, created_by=actor.username
            )
            session.add(job)
            session.flush()
            self._vault.record(
                session, item_id, actor, "view", {"what": "redaction", "redaction": job.id}, why
            )
            job_id, sha = job.id, item.sha256
        self._run(self._detect, job_id, sha)
        return self.get(redaction_id=job_id, actor=actor)

    def _run(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(
            target=target, args=args, name=f"redaction-{args[0]}", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def recover(self) -> int:
        """Jobs a stopped server left searching or rendering are marked failed (start a new
        one); how many. Called when kupol starts."""
        with self._db.unit_of_work() as session:
            stuck = list(
                session.scalars(
                    select(Redaction).where(Redaction.status.in_(("detecting", "rendering")))
                )
            )
            for job in stuck:
                job.status, job.updated_at = "failed", utcnow()
                job.error = "interrupted: the server stopped while the job ran; start it again"
            return len(stuck)

    def _fail(self, job_id: int, exc: BaseException) -> None:
        """Record why a job failed (if even that fails, the log says so)."""
        try:
            self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        except Exception:
            log.exception("redaction %s failed and its failure could not be recorded", job_id)

    def wait(self, timeout: float = 600.0) -> None:
        """Wait for the running jobs (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _update(self, job_id: int, **values: Any) -> None:
        with self._db.unit_of_work() as session:
            job = session.get(Redaction, job_id)
            assert job is not None
            for key, value in values.items():
                setattr(job, key, value)
            job.updated_at = utcnow()

    def _detect(self, job_id: int, sha256: str) -> None:
        try:
            with self._db.reader() as session:
                job = session.get(Redaction, job_id)
                assert job is not None
                every_s = job.every_s
            last = [0.0]

            def progress(value: float) -> None:
                if value - last[0] >= 0.1:
                    last[0] = value
                    self._update(job_id, progress=round(value, 2))

            with self._vault.store.local_copy(sha256) as path:
                tracks = redaction.detect_tracks(
                    path, self._finders(), every_s=every_s, progress=progress
                )
            self._update(
                job_id, status="planned", progress=1.0, tracks=[t.as_json() for t in tracks]
            )
        except Exception as exc:  # the job records why; the API shows it
            self._fail(job_id, exc)

    def edit(
        self,
        *,
        redaction_id: int,
        actor: Principal,
        add: Sequence[tuple[float, float, tuple[float, float, float, float]]] = (),
        remove: Sequence[str] = (),
        keep: Sequence[str] = (),
        hide: Sequence[str] = (),
    ) -> RedactionView:
        """Add regions (t0, t1, box as fractions), remove added ones, keep found tracks
        visible or hide them again — while the job is planned."""
        actor.require(Permission.EVIDENCE_EXPORT)
        with self._db.unit_of_work() as session:
            job = _job(session, redaction_id, lock=True)
            if job.status != "planned":
                raise ConflictError(f"redaction {redaction_id} is {job.status}, not planned")
            tracks = list(job.tracks)
            ids = {t["id"] for t in tracks}
            for name in [*remove, *keep, *hide]:
                if name not in ids:
                    raise InvalidInputError(f"redaction {redaction_id} has no region {name}")
            for name in remove:
                if not name.startswith("m"):
                    raise InvalidInputError(f"{name} was found, not added: keep it visible instead")
            tracks = [t for t in tracks if t["id"] not in remove]
            for t0, t1, box in add:
                track = redaction.manual_track(f"m{uuid.uuid4().hex[:6]}", t0, t1, box)
                tracks.append(track.as_json())
            kept = (set(job.kept) | set(keep)) - set(hide) - set(remove)
            job.tracks = tracks
            job.kept = sorted(kept)
            job.updated_at = utcnow()
            return _view(job)

    def apply(self, *, redaction_id: int, actor: Principal) -> RedactionView:
        """Render the redacted copy (in the background)."""
        actor.require(Permission.EVIDENCE_EXPORT)
        with self._db.unit_of_work() as session:
            job = _job(session, redaction_id, lock=True)
            if job.status != "planned":
                raise ConflictError(f"redaction {redaction_id} is {job.status}, not planned")
            job.status, job.progress, job.updated_at = "rendering", 0.0, utcnow()
        self._run(self._render, redaction_id, actor)
        return self.get(redaction_id=redaction_id, actor=actor)

    def _render(self, job_id: int, actor: Principal) -> None:
        try:
            with self._db.reader() as session:
                job = _job(session, job_id)
                item = session.get(EvidenceItem, job.item_id)
                assert item is not None
                hidden = [
                    redaction.Track.from_json(t) for t in job.tracks if t["id"] not in job.kept
                ]
                every_s, kept = job.every_s, list(job.kept)
                meta = Metadata(
                    filename=_redacted_name(item.filename),
                    media_type="video/mp4",
                    category=item.category,
                    device_id=item.device_id,
                    officer=item.officer,
                    started_at=item.started_at,
                    ended_at=item.ended_at,
                    case_number=item.case_number,
                    description=f"redacted copy of evidence item {item.id} (redaction {job_id}; "
                    f"{len(hidden)} regions hidden, {len(kept)} kept visible; no audio)",
                    derived_from=item.id,
                )
                sha256 = item.sha256
            folder = self._vault.store.root / "incoming"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"redaction-{job_id}-{uuid.uuid4().hex[:8]}.mp4"
            last = [0.0]

            def progress(value: float) -> None:
                if value - last[0] >= 0.1:
                    last[0] = value
                    self._update(job_id, progress=round(value, 2))

            with self._vault.store.local_copy(sha256) as source:
                redaction.render(source, target, hidden, every_s=every_s, progress=progress)
            found = self._vault.ingest_file(target, meta, actor=actor)
            with self._db.unit_of_work() as session:
                job = _job(session, job_id, lock=True)
                job.status, job.progress, job.result_item_id = "done", 1.0, found.item.id
                job.updated_at = utcnow()
                self._vault.record(
                    session,
                    job.item_id,
                    actor,
                    "redact",
                    {
                        "redaction": job_id,
                        "copy": found.item.id,
                        "hidden": len(hidden),
                        "kept": kept,
                        "audio": "removed",
                    },
                )
        except Exception as exc:
            self._fail(job_id, exc)

    # ------------------------------------------------------------------ reading
    def get(self, *, redaction_id: int, actor: Principal) -> RedactionView:
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.reader() as session:
            return _view(_job(session, redaction_id))

    def of_item(self, *, item_id: int, actor: Principal) -> list[RedactionView]:
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.reader() as session:
            return [
                _view(j)
                for j in session.scalars(
                    select(Redaction).where(Redaction.item_id == item_id).order_by(Redaction.id)
                )
            ]

    def frame(self, *, redaction_id: int, t: float, actor: Principal, why: Justification) -> bytes:
        """A JPEG of the original frame at ``t`` with the regions drawn (red: hidden, green:
        kept) — for the editor; a view of the original, recorded in its custody."""
        actor.require(Permission.EVIDENCE_VIEW)
        if not 0 <= t <= 24 * 3600:
            raise InvalidInputError("t is seconds into the clip")
        with self._db.unit_of_work() as session:
            job = _job(session, redaction_id)
            item = session.get(EvidenceItem, job.item_id)
            assert item is not None
            self._vault.record(
                session,
                item.id,
                actor,
                "view",
                {"what": "frame", "t": round(t, 2), "redaction": redaction_id},
                why,
            )
            tracks = [(redaction.Track.from_json(d), d["id"] in job.kept) for d in job.tracks]
            sha256, every_s = item.sha256, job.every_s
        with self._vault.store.local_copy(sha256) as path:
            image = redaction.draw(redaction.frame_at(path, t), tracks, t, every_s)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise InvalidInputError("the frame could not be encoded")
        return bytes(data)


def _redacted_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:280]}-redacted.mp4"


def _job(session: Any, redaction_id: int, *, lock: bool = False) -> Redaction:
    return fetch(session, Redaction, redaction_id, what="redaction", lock=lock)


def _view(job: Redaction) -> RedactionView:
    return RedactionView(
        id=job.id,
        item_id=job.item_id,
        status=job.status,
        every_s=job.every_s,
        progress=job.progress,
        tracks=list(job.tracks),
        kept=list(job.kept),
        result_item_id=job.result_item_id,
        error=job.error,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )
