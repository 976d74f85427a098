"""Writing and verifying the audit log.

Each entry's hash is SHA-256 over a canonical JSON of its fields and the previous hash,
so changing, inserting or deleting any row breaks every hash after it. Appends are
serialised by the database (a transaction-scoped advisory lock on PostgreSQL, the
immediate write transaction on SQLite) so two writers, even in two processes, never fork
the chain. A change and its audit entry are written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kupol.core.audit.model import AuditEntry
from kupol.core.audit.purpose import Justification
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError
from kupol.core.messages import utcnow

if TYPE_CHECKING:
    from kupol.core.auth import Principal

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x6B75706F6C  # "kupol"


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    """What to write: who did what to which record, and the purpose they gave."""

    actor: str
    roles: tuple[str, ...] = ()
    action: str
    resource_type: str
    resource_id: str | None = None
    purpose: str | None = None
    case_number: str | None = None
    client: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ChainReport:
    """The result of :meth:`AuditLog.verify`."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    last_seq: int = 0
    last_hash: str = GENESIS

    @property
    def anchor(self) -> str:
        """``seq:hash`` of the last entry: keep it elsewhere to detect a cut-off tail later."""
        return f"{self.last_seq}:{self.last_hash}"


def entry_hash(*, seq: int, at: datetime, record: AuditRecord, prev_hash: str) -> str:
    """The chained hash of one entry (also used to verify stored rows)."""
    canonical = json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": record.actor,
            "roles": ",".join(record.roles),
            "action": record.action,
            "resource_type": record.resource_type,
            "resource_id": record.resource_id,
            "purpose": record.purpose,
            "case_number": record.case_number,
            "client": record.client,
            "details": record.details,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog:
    """The audit log service.

    Example:
        >>> from kupol.core.db import Database, Base
        >>> db = Database.from_url("sqlite://")
        >>> Base.metadata.create_all(db.engine, tables=[AuditEntry.__table__])
        >>> log = AuditLog(db)
        >>> _ = log.append(AuditRecord(actor="ivanov", action="view", resource_type="camera"))
        >>> log.verify().ok
        True
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, record: AuditRecord, *, session: Session | None = None) -> AuditEntry:
        """Write one entry; raises if it cannot (callers fail closed).

        Args:
            record: what to write.
            session: the caller's unit of work, so a change and its audit entry commit or
                fail together. Without it the entry is written in its own transaction
                (reads audit themselves before returning data).
        """
        if session is not None:
            return self._append(session, record)
        with self._db.unit_of_work() as own:
            return self._append(own, record)

    def _append(self, session: Session, record: AuditRecord) -> AuditEntry:
        # Appends are serialised by the database: on PostgreSQL an advisory lock held to
        # commit, on SQLite the IMMEDIATE write lock every unit of work takes (core.db).
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = utcnow()
        entry = AuditEntry(
            seq=seq,
            at=at,
            actor=record.actor,
            roles=",".join(record.roles),
            action=record.action,
            resource_type=record.resource_type,
            resource_id=record.resource_id,
            purpose=record.purpose,
            case_number=record.case_number,
            client=record.client,
            details=record.details,
            prev_hash=prev,
            hash=entry_hash(seq=seq, at=at, record=record, prev_hash=prev),
        )
        session.add(entry)
        session.flush()
        return entry

    def access(
        self,
        *,
        actor: Principal,
        why: Justification,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Record a read of personal data — the one call a domain makes before returning it.

        Example:
            ``audit.access(actor=user, why=why, action="view", resource_type="plate_read",
            resource_id=str(read.id))``
        """
        return self.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                purpose=why.purpose,
                case_number=why.case_number,
                client=why.client,
                details=details or {},
            )
        )

    def verify(self, *, anchor: str | None = None, batch: int = 5000) -> ChainReport:
        """Recompute the chain from the first entry; report the first entry that breaks it.

        The chain alone cannot show that its newest entries were deleted. ``anchor`` — a
        ``seq:hash`` printed by an earlier verification and kept outside the database —
        closes that gap: the entry ``seq`` must still exist with that hash.
        """
        report = self._verify_chain(batch)
        if not report.ok or anchor is None:
            return report
        seq_text, _, expected = anchor.partition(":")
        if not seq_text.isdigit() or len(expected) != 64:
            raise InvalidInputError("an anchor is SEQ:HASH as printed by `kupol audit verify`")
        seq = int(seq_text)
        if seq == 0 and expected == GENESIS:
            return report  # anchored when the log was still empty: nothing to check
        with self._db.reader() as session:
            stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
        if stored != expected:
            reason = (
                f"anchored entry {seq} is gone: entries were removed from the end"
                if stored is None
                else f"anchored entry {seq} was rewritten"
            )
            return ChainReport(
                ok=False,
                checked=report.checked,
                first_bad_seq=seq,
                reason=reason,
                last_seq=report.last_seq,
                last_hash=report.last_hash,
            )
        return report

    def _verify_chain(self, batch: int) -> ChainReport:
        prev = GENESIS
        expected_seq = 1
        checked = 0
        with self._db.reader() as session:
            for entry in _iterate(session, batch):
                record = AuditRecord(
                    actor=entry.actor,
                    roles=tuple(r for r in entry.roles.split(",") if r),
                    action=entry.action,
                    resource_type=entry.resource_type,
                    resource_id=entry.resource_id,
                    purpose=entry.purpose,
                    case_number=entry.case_number,
                    client=entry.client,
                    details=entry.details,
                )
                if entry.seq != expected_seq:
                    return ChainReport(
                        ok=False,
                        checked=checked,
                        first_bad_seq=expected_seq,
                        reason=f"entry {expected_seq} is missing",
                    )
                if entry.prev_hash != prev:
                    return ChainReport(
                        ok=False,
                        checked=checked,
                        first_bad_seq=entry.seq,
                        reason="previous-hash link broken",
                    )
                if (
                    entry_hash(seq=entry.seq, at=entry.at, record=record, prev_hash=prev)
                    != entry.hash
                ):
                    return ChainReport(
                        ok=False,
                        checked=checked,
                        first_bad_seq=entry.seq,
                        reason="contents do not match the hash",
                    )
                prev = entry.hash
                expected_seq += 1
                checked += 1
        return ChainReport(ok=True, checked=checked, last_seq=expected_seq - 1, last_hash=prev)

    def count(self) -> int:
        """How many entries the log holds."""
        with self._db.reader() as session:
            return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _iterate(session: Session, batch: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
