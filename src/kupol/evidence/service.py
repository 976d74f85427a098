"""The vault's service: ingest a file with its metadata (deduplicated by content), read it and
record who did, and verify the whole vault. Every action is a custody entry and an audit
record, in one transaction."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.audit.model import AuditEntry
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.evidence import custody
from kupol.evidence.devices import attribute
from kupol.evidence.links import RelatedAlert, related_alerts
from kupol.evidence.model import CustodyEntry, EvidenceItem
from kupol.evidence.package import PackageSigner, PackedItem, build_package
from kupol.evidence.store import Store, Stored
from kupol.evidence.uploads import ResumableUploads
from kupol.settings import EvidenceSettings

MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
CATEGORIES = ("bodycam", "camera", "drone", "photo", "document", "citizen", "other")
MAX_EXPORT = 100


def parse_time(value: object, name: str) -> datetime | None:
    """An ISO 8601 time with its UTC offset (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{name} {value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidInputError(f"{name} needs its UTC offset")
    return parsed


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What a file is: where from, who, when, for which case."""

    filename: str
    media_type: str = "application/octet-stream"
    category: str = "other"
    device_id: str | None = None
    officer: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    case_number: str | None = None
    description: str | None = None
    gps: tuple[tuple[float, float, str], ...] = ()
    """The device's track while recording: (latitude, longitude, ISO time)."""
    derived_from: int | None = None
    """The item this one was made from (a redacted copy's original)."""

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Metadata:
        """Metadata from text fields (a resumable upload's ``Upload-Metadata``): ``filename``,
        ``filetype`` (or ``media_type``), ``category``, ``device_id``, ``officer``,
        ``started_at``, ``ended_at`` (ISO 8601 with offset), ``case_number``, ``description``.

        Raises:
            InvalidInputError: a field kupol does not know, or a malformed value.
        """
        known = {"filename", "filetype", "media_type", "category", "device_id", "officer",
                 "started_at", "ended_at", "case_number", "description", "sha256"}  # fmt: skip
        unknown = sorted(set(fields) - known)
        if unknown:
            raise InvalidInputError(f"unknown metadata {', '.join(unknown)}")
        text = {k: v.strip() for k, v in fields.items()}
        limits = {"device_id": 64, "officer": 64, "case_number": 64, "description": 4000,
                  "filetype": 200, "media_type": 200}  # fmt: skip
        for name, limit in limits.items():
            if len(text.get(name, "")) > limit:
                raise InvalidInputError(f"{name} is longer than {limit} characters")
        meta = cls(
            filename=text.get("filename") or "upload",
            media_type=(
                text.get("filetype") or text.get("media_type") or "application/octet-stream"
            )
            .split(";")[0]
            .strip()
            .lower(),
            category=text.get("category") or "other",
            device_id=text.get("device_id") or None,
            officer=text.get("officer") or None,
            started_at=parse_time(text.get("started_at") or None, "started_at"),
            ended_at=parse_time(text.get("ended_at") or None, "ended_at"),
            case_number=text.get("case_number") or None,
            description=text.get("description") or None,
        )
        meta.check()
        return meta

    def check(self) -> None:
        """Raises InvalidInputError naming what is wrong."""
        if not MEDIA_TYPE.match(self.media_type):
            raise InvalidInputError("media_type must look like type/subtype (e.g. video/mp4)")
        if self.category not in CATEGORIES:
            raise InvalidInputError(f"category must be one of {', '.join(CATEGORIES)}")
        name = self.filename
        if not 1 <= len(name) <= 300 or "/" in name or "\\" in name or name in (".", ".."):
            raise InvalidInputError("filename must be a plain name of 1 to 300 characters")
        for value in (self.started_at, self.ended_at):
            if value is not None and value.tzinfo is None:
                raise InvalidInputError("times need their UTC offset")
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise InvalidInputError("ended_at is before started_at")


@dataclass(frozen=True, kw_only=True)
class ItemView:
    """An item as listed and shown."""

    id: int
    sha256: str
    size: int
    media_type: str
    filename: str
    category: str
    device_id: str | None
    officer: str | None
    started_at: datetime | None
    ended_at: datetime | None
    case_number: str | None
    ingested_by: str
    ingested_at: datetime
    retain_until: datetime | None = None
    on_hold: bool = False
    purged_at: datetime | None = None
    derived_from: int | None = None
    attribution: str | None = None
    """A registered device's clip: shift, unassigned, conflict (see evidence.devices)."""
    gps: list[list[float | str]] = field(default_factory=list)
    """The device's track while recording: [latitude, longitude, ISO time] points."""


@dataclass(frozen=True, kw_only=True)
class Ingested:
    """An ingest's result: the item, and whether its content was new."""

    item: ItemView
    duplicate: bool


class EvidenceVault:
    """Ingests, serves and verifies evidence."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        store: Store,
        key_path: Path,
        retention: EvidenceSettings | None = None,
    ) -> None:
        self._retention = retention or EvidenceSettings()
        self._db = db
        self._audit = audit
        self.store = store
        self._key_path = key_path
        self._signer: PackageSigner | None = None
        self.on_ingest: list[Callable[[Session, EvidenceItem], None]] = []
        """Called in the ingest's transaction with each new item (incidents link clips)."""
        self.uploads = ResumableUploads(
            store.root / "uploads",
            max_size=self._retention.max_upload_bytes,
            expire_after=timedelta(hours=self._retention.upload_expire_h),
        )

    @property
    def signer(self) -> PackageSigner:
        """The deployment's package-signing key (made on first use)."""
        if self._signer is None:
            self._signer = PackageSigner(self._key_path)
        return self._signer

    def export(
        self, *, item_ids: list[int], actor: Principal, why: Justification
    ) -> tuple[str, bytes]:
        """A signed package of ``item_ids`` (:mod:`kupol.evidence.package`); each item's custody
        records the export, which the package's own copy of the custody includes."""
        actor.require(Permission.EVIDENCE_EXPORT)
        if not 1 <= len(set(item_ids)) <= MAX_EXPORT:
            raise InvalidInputError(f"export 1 to {MAX_EXPORT} items at once")
        package_id = uuid.uuid4().hex
        ids = sorted(set(item_ids))
        with self._db.unit_of_work() as session:
            for item_id in ids:
                if session.get(EvidenceItem, item_id) is None:
                    raise NotFoundError(f"no evidence item {item_id}")
                self.record(session, item_id, actor, "export", {"package": package_id}, why)
        packed = []
        with self._db.reader() as session:
            for item_id in ids:
                item = session.get(EvidenceItem, item_id)
                assert item is not None
                entries = session.scalars(
                    select(CustodyEntry)
                    .where(CustodyEntry.item_id == item_id)
                    .order_by(CustodyEntry.seq)
                )
                view = asdict(_view(item))
                packed.append(
                    PackedItem(
                        metadata={
                            k: (v.isoformat() if isinstance(v, datetime) else v)
                            for k, v in view.items()
                        },
                        sha256=item.sha256,
                        filename=item.filename,
                        data=self.store.read(item.sha256),
                        custody=[
                            {
                                "seq": e.seq,
                                "at": e.at.isoformat(timespec="microseconds"),
                                "actor": e.actor,
                                "action": e.action,
                                "details": e.details,
                                "prev_hash": e.prev_hash,
                                "hash": e.hash,
                            }
                            for e in entries
                        ],
                    )
                )
        data = build_package(
            package_id=package_id,
            created_at=utcnow(),
            created_by=actor.username,
            purpose=why.purpose,
            items=packed,
            signer=self.signer,
        )
        return package_id, data

    def ingest(self, stream: BinaryIO, meta: Metadata, *, actor: Principal,
               expected_sha256: str | None = None) -> Ingested:  # fmt: skip
        """Store a file and record it. The same content ingested again is not stored twice:
        the existing item gets a ``duplicate`` custody entry and is returned."""
        actor.require(Permission.EVIDENCE_INGEST)
        meta.check()
        return self._register(self.store.put(stream, expected_sha256=expected_sha256), meta, actor)

    def ingest_file(self, path: Path, meta: Metadata, *, actor: Principal,
                    expected_sha256: str | None = None) -> Ingested:  # fmt: skip
        """Like :meth:`ingest` for a file already on the vault's disk (a finished resumable
        upload), which is moved into the store rather than copied."""
        actor.require(Permission.EVIDENCE_INGEST)
        meta.check()
        return self._register(self.store.adopt(path, expected_sha256=expected_sha256), meta, actor)

    def _register(self, stored: Stored, meta: Metadata, actor: Principal) -> Ingested:
        with self._db.unit_of_work() as session:
            existing = session.scalar(
                select(EvidenceItem)
                .where(EvidenceItem.sha256 == stored.sha256, EvidenceItem.purged_at.is_(None))
                .order_by(EvidenceItem.id)
                .limit(1)
            )
            if existing is not None:
                self.record(session, existing.id, actor, "duplicate",
                             {"filename": meta.filename, "device_id": meta.device_id})  # fmt: skip
                return Ingested(item=_view(existing), duplicate=True)
            who = (
                attribute(session, meta.device_id, meta.started_at, meta.ended_at, meta.officer)
                if meta.device_id
                else None
            )
            item = EvidenceItem(
                sha256=stored.sha256,
                size=stored.size,
                media_type=meta.media_type,
                filename=meta.filename,
                category=meta.category,
                device_id=meta.device_id,
                officer=who.officer if who else meta.officer,
                attribution=who.status if who else None,
                derived_from=meta.derived_from,
                started_at=meta.started_at,
                ended_at=meta.ended_at,
                case_number=meta.case_number,
                description=meta.description,
                gps=[list(p) for p in meta.gps],
                ingested_by=actor.username,
                on_hold=False,
                # An item of a case is kept until the case closes (then case_years more).
                retain_until=None
                if meta.case_number
                else utcnow() + timedelta(days=self._retention.retention_days[meta.category]),
            )
            session.add(item)
            session.flush()
            details: dict[str, object] = {"sha256": stored.sha256, "size": stored.size}
            if who is not None:
                details.update(attribution=who.status, officer=who.officer, shift=who.shift_id)
            if meta.derived_from is not None:
                details["derived_from"] = meta.derived_from
            self.record(session, item.id, actor, "ingest", details)
            for hook in self.on_ingest:
                hook(session, item)
            return Ingested(item=_view(item), duplicate=False)

    def record(self, session: Session, item_id: int, actor: Principal, action: str,
               details: dict[str, object], why: Justification | None = None) -> None:  # fmt: skip
        """Append a custody entry (and its audit record) in the caller's transaction."""
        info = dict(details)
        if why is not None:
            info["purpose"] = why.purpose
        entry = custody.append(
            session, item_id, actor=actor.username, action=action, at=utcnow(), details=info
        )
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action=action,
                resource_type="evidence_custody",
                resource_id=str(item_id),
                purpose=why.purpose if why else None,
                case_number=why.case_number if why else None,
                client=why.client if why else None,
                details={"item": item_id, "seq": entry.seq, "hash": entry.hash},
            ),
            session=session,
        )

    # ------------------------------------------------------------------ retention
    def hold(self, *, item_id: int, reason: str, actor: Principal, on: bool = True) -> ItemView:
        """Put an item under legal hold (``on``) or release it, saying why."""
        actor.require(Permission.EVIDENCE_MANAGE)
        if len(reason.strip()) < 5:
            raise InvalidInputError("say why (at least 5 characters)")
        with self._db.unit_of_work() as session:
            item = _live(session, item_id)
            item.on_hold = on
            self.record(session, item_id, actor, "hold" if on else "release",
                         {"reason": reason.strip()})  # fmt: skip
            return _view(item)

    def close_case(self, *, case_number: str, closed_at: datetime, actor: Principal) -> int:
        """A case closed: its items are kept ``case_years`` more; how many items."""
        actor.require(Permission.EVIDENCE_MANAGE)
        if closed_at.tzinfo is None:
            raise InvalidInputError("closed_at needs its UTC offset")
        now = utcnow()
        if not now - timedelta(days=31) <= closed_at <= now + timedelta(minutes=5):
            raise InvalidInputError(
                "closed_at is the day the case was closed: within the last 31 days, not ahead"
            )
        until = closed_at + timedelta(days=round(365.25 * self._retention.case_years))
        with self._db.unit_of_work() as session:
            items = list(
                session.scalars(
                    select(EvidenceItem).where(
                        EvidenceItem.case_number == case_number, EvidenceItem.purged_at.is_(None)
                    )
                )
            )
            for item in items:
                # Never shortened: an item kept longer for another reason stays so.
                if item.retain_until is not None and item.retain_until > until:
                    continue
                item.retain_until = until
                details: dict[str, object] = {
                    "case_closed": closed_at.isoformat(),
                    "until": until.isoformat(),
                }
                self.record(session, item.id, actor, "retention", details)
            return len(items)

    def delete(self, *, item_id: int, reason: str, actor: Principal) -> None:
        """Delete an item's file before the scheduled purge would — refused under legal hold or
        inside its retention, whoever asks. Its record and custody stay."""
        actor.require(Permission.EVIDENCE_MANAGE)
        with self._db.unit_of_work() as session:
            item = _live(session, item_id)
            _deletable(item, utcnow())
            self._purge(session, item, actor, reason.strip() or "deleted")

    def purge_due(self, *, actor: Principal) -> list[int]:
        """Purge every item past its retention and not on hold (the scheduled job)."""
        now = utcnow()
        with self._db.unit_of_work() as session:
            due = list(
                session.scalars(
                    select(EvidenceItem).where(
                        EvidenceItem.purged_at.is_(None),
                        EvidenceItem.on_hold.is_(False),
                        EvidenceItem.retain_until.is_not(None),
                        EvidenceItem.retain_until <= now,
                    )
                )
            )
            for item in due:
                self._purge(session, item, actor, "retention ended")
            return [item.id for item in due]

    def _purge(self, session: Session, item: EvidenceItem, actor: Principal, reason: str) -> None:
        # Others of the same content would share the file (deduplication keeps one item).
        self.record(session, item.id, actor, "purge", {"reason": reason, "sha256": item.sha256})
        item.purged_at = utcnow()
        session.flush()
        shared = session.scalar(
            select(EvidenceItem.id)
            .where(EvidenceItem.sha256 == item.sha256, EvidenceItem.purged_at.is_(None))
            .limit(1)
        )
        if shared is None:  # another live item of the same content keeps the file
            self.store.delete(item.sha256)

    def get(self, *, item_id: int, actor: Principal, why: Justification) -> ItemView:
        """One item's metadata (a view, recorded)."""
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.unit_of_work() as session:
            item = session.get(EvidenceItem, item_id)
            if item is None:
                raise NotFoundError(f"no evidence item {item_id}")
            self.record(session, item_id, actor, "view", {"what": "metadata"}, why)
            return _view(item)

    def read_bytes(self, item_id: int) -> bytes:
        """An item's whole file, for the system's own checks (another domain verifying the
        SHA-256 a decision was signed over); a person's look goes through :meth:`content`.

        Raises:
            NotFoundError: no such item, or its file is gone.
        """
        with self._db.reader() as session:
            item = session.get(EvidenceItem, item_id)
            if item is None or item.purged_at is not None:
                raise NotFoundError(f"no evidence item {item_id}")
            sha256 = item.sha256
        return self.store.read(sha256)

    def content(
        self, *, item_id: int, actor: Principal, why: Justification
    ) -> tuple[ItemView, Iterator[bytes]]:
        """An item's file (recorded as a view before a byte goes out)."""
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.unit_of_work() as session:
            item = session.get(EvidenceItem, item_id)
            if item is None:
                raise NotFoundError(f"no evidence item {item_id}")
            self.record(session, item_id, actor, "view", {"what": "file"}, why)
            view = _view(item)
        try:
            body = self.store.open(view.sha256)
        except NotFoundError:
            raise NotFoundError(f"the file of evidence item {item_id} is gone") from None

        def chunks() -> Iterator[bytes]:
            with contextlib.closing(body):
                while chunk := body.read(1024 * 1024):
                    yield chunk

        return view, chunks()

    def search(
        self,
        *,
        actor: Principal,
        why: Justification,
        case_number: str | None = None,
        device_id: str | None = None,
        officer: str | None = None,
        category: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[ItemView]:
        """Items by case, device, officer, category and recording time, latest first (a
        search of evidence: audited with its purpose and criteria)."""
        actor.require(Permission.EVIDENCE_VIEW)
        if category is not None and category not in CATEGORIES:
            raise InvalidInputError(f"category must be one of {', '.join(CATEGORIES)}")
        query = select(EvidenceItem)
        criteria: dict[str, object] = {}
        for column, value, name in (
            (EvidenceItem.case_number, case_number, "case_number"),
            (EvidenceItem.device_id, device_id, "device_id"),
            (EvidenceItem.officer, officer, "officer"),
            (EvidenceItem.category, category, "category"),
        ):
            if value:
                query = query.where(column == value)
                criteria[name] = value
        if since is not None:
            query = query.where(EvidenceItem.ended_at >= since)
            criteria["since"] = since.isoformat()
        if until is not None:
            query = query.where(EvidenceItem.started_at <= until)
            criteria["until"] = until.isoformat()
        query = query.order_by(EvidenceItem.started_at.desc(), EvidenceItem.id.desc())
        with self._db.unit_of_work() as session:
            items = [_view(i) for i in session.scalars(query.limit(max(1, min(limit, 500))))]
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="search",
                    resource_type="evidence",
                    resource_id=None,
                    purpose=why.purpose,
                    case_number=why.case_number,
                    client=why.client,
                    details={**criteria, "results": len(items)},
                ),
                session=session,
            )
            return items

    def related_alerts(
        self, *, item_id: int, actor: Principal, radius_m: float = 300.0
    ) -> list[RelatedAlert]:
        """Alerts the clip saw: raised while it recorded, near where its device was."""
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.reader() as session:
            item = session.get(EvidenceItem, item_id)
            if item is None:
                raise NotFoundError(f"no evidence item {item_id}")
            return related_alerts(session, item, radius_m=radius_m)

    def custody_log(self, *, item_id: int, actor: Principal) -> list[dict[str, object]]:
        """An item's chain of custody, oldest first."""
        actor.require(Permission.EVIDENCE_VIEW)
        with self._db.reader() as session:
            if session.get(EvidenceItem, item_id) is None:
                raise NotFoundError(f"no evidence item {item_id}")
            return [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "details": e.details,
                    "hash": e.hash,
                }
                for e in session.scalars(
                    select(CustodyEntry)
                    .where(CustodyEntry.item_id == item_id)
                    .order_by(CustodyEntry.seq)
                )
            ]

    def verify(self, *, workers: int = 1) -> custody.VaultReport:
        """Check every item's chain, file and last entry against the audit log; the chains
        by ``workers`` processes at once (each with its own connection)."""
        with self._db.reader() as session:
            heads: dict[int, tuple[int, str]] = {}
            for details in session.scalars(
                select(AuditEntry.details).where(AuditEntry.resource_type == "evidence_custody")
            ):
                item, seq, digest = details.get("item"), details.get("seq"), details.get("hash")
                usable = isinstance(item, int) and isinstance(seq, int) and isinstance(digest, str)
                if usable and (item not in heads or seq > heads[item][0]):
                    heads[item] = (seq, digest)
            url = self._db.engine.url.render_as_string(hide_password=False)
            return custody.verify(session, self.store, heads=heads, workers=workers, url=url)


def _live(session: Session, item_id: int) -> EvidenceItem:
    item = session.get(EvidenceItem, item_id)
    if item is None:
        raise NotFoundError(f"no evidence item {item_id}")
    if item.purged_at is not None:
        raise ConflictError(f"evidence item {item_id} was purged on {item.purged_at:%Y-%m-%d}")
    return item


def _deletable(item: EvidenceItem, now: datetime) -> None:
    """Raises ConflictError when nobody may delete ``item`` now."""
    if item.on_hold:
        raise ConflictError(f"evidence item {item.id} is under legal hold: it cannot be deleted")
    if item.retain_until is None:
        raise ConflictError(
            f"evidence item {item.id} belongs to case {item.case_number}, which is not closed: "
            "it cannot be deleted"
        )
    if item.retain_until > now:
        raise ConflictError(
            f"evidence item {item.id} is retained until {item.retain_until:%Y-%m-%d}: it cannot "
            "be deleted before"
        )


def _view(item: EvidenceItem) -> ItemView:
    return ItemView(
        id=item.id,
        sha256=item.sha256,
        size=item.size,
        media_type=item.media_type,
        filename=item.filename,
        category=item.category,
        device_id=item.device_id,
        officer=item.officer,
        started_at=item.started_at,
        ended_at=item.ended_at,
        case_number=item.case_number,
        ingested_by=item.ingested_by,
        ingested_at=item.ingested_at,
        retain_until=item.retain_until,
        on_hold=bool(item.on_hold),
        purged_at=item.purged_at,
        attribution=item.attribution,
        derived_from=item.derived_from,
        gps=[list(p) for p in item.gps or []],
    )
