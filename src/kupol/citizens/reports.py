"""Citizens' reports: what they saw, where and when, with photos or videos kept in the evidence
vault (custody from the first byte, ingested by the portal on the citizen's behalf), and their
own reports' status and reward.

Intake refuses, with the reason, what cannot be a report (an unknown type, a place off the map,
a time in the future or over 30 days ago, a file that is no photo or video, too big); it limits
reports per citizen and per device a day; and it notes what officers should know — the same
file sent before (by anyone) is a finding on the report, not a refusal.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from kupol.citizens.accounts import device_id
from kupol.citizens.intake import MediaFacts, SeenPictures, claim_findings, hash_fields, read_media
from kupol.citizens.media_frames import FaceFinder, Preview, frames_of, preview, read_plates
from kupol.citizens.media_meta import MediaMetadata
from kupol.citizens.store import ReportRow
from kupol.core.audit import AuditLog
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConfigError, InvalidInputError, NotFoundError, RateLimitedError
from kupol.core.messages import utcnow
from kupol.evidence.service import EvidenceVault, Metadata
from kupol.plates.readers import PlateReader
from kupol.settings import CitizensSettings

KINDS = ("traffic_violation", "public_order", "lost_person", "suspicious_object", "fraud_call")
MEDIA = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "video/mp4": (b"ftyp",),
    "video/quicktime": (b"ftyp", b"moov", b"wide", b"mdat"),
}
"""Accepted media types and how their files begin (MP4 and QuickTime: the box at byte 4)."""
PORTAL = Principal(user_id=0, username="citizen-portal", full_name="Citizens' portal",
                   roles=("device",), locale="ru")  # fmt: skip
"""The system that puts citizens' files into the vault (the custody names the citizen)."""
MAX_AGE = timedelta(days=30)
KAZAKHSTAN = timezone(timedelta(hours=5))
VIDEO_FRAMES = 32
"""Frames of a video read for plates (spread over it: about a second apart in a half-minute
clip; a 40 s clip takes about 1.5 s on two cores)."""
PLATES_KEPT = 5
"""Plates kept per report, most often read first: a street has several cars."""


@dataclass(frozen=True, kw_only=True)
class Media:
    """One uploaded file."""

    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class ReportView:
    id: int
    kind: str
    description: str
    occurred_at: datetime
    lat: float
    lon: float
    location_source: str
    media: list[dict[str, object]]
    findings: list[dict[str, object]]
    status: str
    submitted_at: datetime
    decision_note: str | None
    reward_tenge: int | None
    appeal_text: str | None = None
    plate: str | None = None
    case_key: str | None = None
    offence: str | None = None
    violation_id: int | None = None
    reward_reversal: str | None = None
    incident_id: int | None = None
    region: str | None = None
    plates_read: list[dict[str, object]] = field(default_factory=list)


def _check_media(item: Media, max_bytes: int) -> str:
    media_type = item.media_type.split(";")[0].strip().lower()
    starts = MEDIA.get(media_type)
    if starts is None:
        raise InvalidInputError(f"{item.filename}: send a photo (JPEG, PNG) or a video (MP4)")
    if not 0 < len(item.data) <= max_bytes:
        raise InvalidInputError(f"{item.filename}: a file of 1 byte to {max_bytes >> 20} MB")
    head = item.data[:16]
    if not any(head.startswith(s) or head[4:].startswith(s) for s in starts):
        raise InvalidInputError(f"{item.filename}: the file is not the {media_type} it says")
    return media_type


class CitizenReports:
    """Intake of citizens' reports and their own view of them (see the module)."""

    def __init__(
        self, *, db: Database, audit: AuditLog, vault: EvidenceVault, settings: CitizensSettings,
        region_of: Callable[[float, float], str | None] = lambda lat, lon: None,
        plate_reader: Callable[[], PlateReader] | None = None,
        face_finder: Callable[[], FaceFinder] | None = None,
    ) -> None:  # fmt: skip
        self._region_of = region_of
        self._plate_reader = plate_reader
        self._face_finder = face_finder
        self._db = db
        self._audit = audit
        self._vault = vault
        self.settings = settings
        self._seen = SeenPictures(db)

    def submit(
        self, *, actor: Principal, citizen_id: int, device: str, kind: str, description: str,
        media: list[Media], occurred_at: datetime | None = None, lat: float | None = None,
        lon: float | None = None,
    ) -> ReportView:  # fmt: skip
        """Take a report and its media. The time and place may come from the media's metadata
        when the citizen gives none.

        Raises:
            InvalidInputError: see the module.
            RateLimitedError: the citizen or the device sent ``reports_per_day`` today.
        """
        actor.require(Permission.CITIZEN_REPORT)
        device = device_id(device)
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        description = description.strip()
        if not 1 <= len(description) <= 4000:
            raise InvalidInputError("say what happened (1–4,000 characters)")
        if not 1 <= len(media) <= 5:
            raise InvalidInputError("attach 1 to 5 photos or videos")
        max_bytes = self.settings.max_media_mb << 20
        types = [_check_media(item, max_bytes) for item in media]
        self._check_rate(citizen_id, device)
        facts = [read_media(item.data, t) for item, t in zip(media, types, strict=True)]
        now = utcnow()
        claimed = occurred_at is not None
        occurred_at = occurred_at if occurred_at is not None else _media_time(facts)
        if occurred_at.tzinfo is None:
            raise InvalidInputError("occurred_at needs its UTC offset")
        if occurred_at > now + timedelta(minutes=5) or occurred_at < now - MAX_AGE:
            raise InvalidInputError("occurred_at must be within the last 30 days, not ahead")
        source = "map"
        if lat is None or lon is None:
            lat, lon = _media_place(facts)
            source = "media"
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):  # fmt: skip
            raise InvalidInputError("lat, lon must be a place on the map")
        findings: list[dict[str, object]] = []
        if claimed or source == "map":
            for fact in facts:
                findings += claim_findings(fact, claimed_at=occurred_at, place=(lat, lon),
                                           received_at=now)  # fmt: skip
        for item, fact in zip(media, facts, strict=True):
            for report_id, distance in (self._seen.seen(fact.hash) if fact.hash else [])[:3]:
                findings.append({
                    "kind": "reused_image", "severity": "high",
                    "reason": f"{item.filename} looks like a picture of report {report_id} "
                              f"({distance} of 64 bits apart)",
                })  # fmt: skip
        stored: list[dict[str, object]] = []
        for item, media_type, fact in zip(media, types, facts, strict=True):
            meta = Metadata(
                filename=_safe_name(item.filename), media_type=media_type, category="citizen",
                device_id=None, description=f"citizen report from {actor.username} ({kind})",
            )  # fmt: skip
            got = self._vault.ingest(io.BytesIO(item.data), meta, actor=PORTAL)
            stored.append({"evidence_id": got.item.id, "media_type": media_type,
                           "size": len(item.data), "sha256": got.item.sha256,
                           **_meta_fields(fact.meta), **hash_fields(fact.hash)})  # fmt: skip
            if got.duplicate:
                findings.append({
                    "kind": "file_sent_before", "severity": "high",
                    "reason": f"{item.filename}: the same file is already evidence "
                              f"{got.item.id} (sent before)",
                })  # fmt: skip
        plates = self._read_plates(media, types) if kind == "traffic_violation" else []
        if kind == "traffic_violation" and self._plate_reader is not None and not plates:
            reason = "no Kazakhstan plate could be read in the media"
            findings.append({"kind": "no_plate_read", "severity": "low", "reason": reason})
        first = next((f.hash for f in facts if f.hash is not None), None)
        with self._db.unit_of_work() as session:
            row = ReportRow(
                citizen_id=citizen_id, device_id=device, kind=kind, description=description,
                occurred_at=occurred_at, lat=lat, lon=lon, location_source=source,
                evidence_ids=[int(str(m["evidence_id"])) for m in stored], media=stored,
                findings=findings, status="submitted", submitted_at=now,
                media_hash=_signed(first.phash) if first else None,
                region=self._region_of(lat, lon), plates_read=plates,
            )  # fmt: skip
            session.add(row)
            session.flush()
            view = view_of(row)
        self._seen.add(view.id, [f.hash for f in facts])
        return view

    def _read_plates(self, media: list[Media], types: list[str]) -> list[dict[str, object]]:
        """The plates the plate reader finds in the media (a video: over its sampled frames),
        best first: what the officer checks, and what links reports of one event."""
        if self._plate_reader is None:
            return []
        reader = self._plate_reader()
        found: list[dict[str, object]] = []
        for number, (item, media_type) in enumerate(zip(media, types, strict=True)):
            try:
                frames = frames_of(item.data, media_type, max_frames=VIDEO_FRAMES)
            except InvalidInputError:
                continue  # unreadable pixels: the metadata checks have said what they could
            for guess in read_plates(frames, reader, limit=PLATES_KEPT):
                found.append({"text": guess.text, "confidence": round(guess.confidence, 3),
                              "frames": guess.frames, "file": number,
                              "frame": guess.best_frame})  # fmt: skip
        best: dict[str, dict[str, object]] = {}
        for read in sorted(found, key=lambda r: -float(str(r["confidence"]))):
            best.setdefault(str(read["text"]), read)
        return list(best.values())[:PLATES_KEPT]

    def preview(self, *, actor: Principal, citizen_id: int, report_id: int, index: int) -> Preview:
        """One of the citizen's own files as shown back to them: a still (a video's middle
        frame), every face blurred, no metadata — recorded in the file's custody.

        Raises:
            NotFoundError: not one of the citizen's reports, or no such file.
            ConfigError: no face detector is set up (nothing is shown unblurred).
        """
        actor.require(Permission.CITIZEN_REPORT)
        if self._face_finder is None:
            raise ConfigError("no face detector: previews are not shown without blurring")
        with self._db.reader() as session:
            row = session.get(ReportRow, report_id)
            if row is None or row.citizen_id != citizen_id:
                raise NotFoundError(f"no report {report_id}")
            if not 0 <= index < len(row.media):
                raise NotFoundError(f"report {report_id} has no file {index}")
            item = row.media[index]
        item_id = int(str(item["evidence_id"]))
        shown = preview(self._vault.read_bytes(item_id), str(item["media_type"]),
                        self._face_finder())  # fmt: skip
        with self._db.unit_of_work() as session:
            self._vault.record(session, item_id, actor, "view",
                               {"what": "preview to the citizen",
                                "faces_blurred": shown.faces_blurred})  # fmt: skip
        return shown

    def _check_rate(self, citizen_id: int, device: str) -> None:
        day = utcnow() - timedelta(days=1)
        with self._db.reader() as session:
            for column, value in ((ReportRow.citizen_id, citizen_id),
                                  (ReportRow.device_id, device)):  # fmt: skip
                sent = session.scalar(select(func.count(ReportRow.id)).where(
                    column == value, ReportRow.submitted_at >= day))  # fmt: skip
                if (sent or 0) >= self.settings.reports_per_day:
                    raise RateLimitedError(
                        f"{self.settings.reports_per_day} reports a day from one person or "
                        "device: try again tomorrow", retry_after_s=86_400,
                    )  # fmt: skip

    def mine(self, *, actor: Principal, citizen_id: int) -> list[ReportView]:
        """The citizen's own reports, newest first."""
        actor.require(Permission.CITIZEN_REPORT)
        with self._db.reader() as session:
            rows = session.scalars(
                select(ReportRow).where(ReportRow.citizen_id == citizen_id)
                .order_by(ReportRow.submitted_at.desc(), ReportRow.id.desc()).limit(200)
            )  # fmt: skip
            return [view_of(r) for r in rows]

    def one_of_mine(self, *, actor: Principal, citizen_id: int, report_id: int) -> ReportView:
        """One of the citizen's own reports (another's is "not found", not "forbidden")."""
        actor.require(Permission.CITIZEN_REPORT)
        with self._db.reader() as session:
            row = session.get(ReportRow, report_id)
            if row is None or row.citizen_id != citizen_id:
                raise NotFoundError(f"no report {report_id}")
            return view_of(row)


def _media_time(facts: list[MediaFacts]) -> datetime:
    for fact in facts:
        taken = fact.meta.captured_at
        if taken is not None:
            # A camera's clock without its offset is local: Kazakhstan keeps UTC+5.
            return taken if taken.tzinfo else taken.replace(tzinfo=KAZAKHSTAN)
    raise InvalidInputError("say when it happened (occurred_at): the media carry no time")


def _media_place(facts: list[MediaFacts]) -> tuple[float, float]:
    for fact in facts:
        if fact.meta.location is not None:
            return fact.meta.location
    raise InvalidInputError("mark the place on the map (lat, lon): the media carry none")


def _meta_fields(meta: MediaMetadata) -> dict[str, object]:
    return {
        "captured_at": meta.captured_at.isoformat() if meta.captured_at else None,
        "location": list(meta.location) if meta.location else None,
        "software": meta.software, "make": meta.make, "model": meta.model,
    }  # fmt: skip


def _signed(value: int) -> int:
    """A 64-bit hash as the signed integer a BIGINT column holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"
    return base[:120]


def view_of(r: ReportRow) -> ReportView:
    return ReportView(
        id=r.id, kind=r.kind, description=r.description, occurred_at=r.occurred_at, lat=r.lat,
        lon=r.lon, location_source=r.location_source, media=list(r.media),
        findings=list(r.findings), status=r.status, submitted_at=r.submitted_at,
        decision_note=r.decision_note, reward_tenge=r.reward_tenge, appeal_text=r.appeal_text,
        plate=r.plate, case_key=r.case_key, offence=r.offence, violation_id=r.violation_id,
        reward_reversal=r.reward_reversal, incident_id=r.incident_id, region=r.region,
        plates_read=list(r.plates_read or []),
    )  # fmt: skip
