"""Auditors read the audit log and check its chain. Reading it is itself audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kupol.api.deps import ContainerDep, client_of, require
from kupol.core.audit import AuditEntry, AuditRecord
from kupol.core.auth import Permission, Principal

router = APIRouter(prefix="/api/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    roles: str
    action: str
    resource_type: str
    resource_id: str | None
    purpose: str | None
    case_number: str | None
    client: str | None
    details: dict[str, Any]
    hash: str


class ChainReportRead(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None
    anchor: str = Field(description="SEQ:HASH of the last entry; keep it outside kupol.")


@router.get("", response_model=list[AuditEntryRead])
def list_entries(
    request: Request,
    container: ContainerDep,
    auditor: Auditor,
    actor: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    case_number: str | None = None,
    before_seq: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryRead]:
    """Audit entries, newest first, filtered."""
    filters = {
        k: v
        for k, v in {
            "actor": actor,
            "action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "case_number": case_number,
        }.items()
        if v
    }
    container.audit.append(
        AuditRecord(
            actor=auditor.username,
            roles=auditor.roles,
            action="search",
            resource_type="audit_log",
            client=client_of(request),
            details=filters,
        )
    )
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    for key, value in filters.items():
        query = query.where(getattr(AuditEntry, key) == value)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    with container.db.reader() as session:
        return [AuditEntryRead.model_validate(e) for e in session.scalars(query)]


@router.post("/verify", response_model=ChainReportRead)
def verify_chain(
    container: ContainerDep, auditor: Auditor, anchor: str | None = None
) -> ChainReportRead:
    """Recompute the hash chain and report the first broken entry, if any.

    ``anchor`` (``SEQ:HASH`` from an earlier verification) also detects a cut-off tail.
    """
    report = container.audit.verify(anchor=anchor)
    container.audit.append(
        AuditRecord(
            actor=auditor.username,
            roles=auditor.roles,
            action="verify",
            resource_type="audit_log",
            details={"ok": report.ok, "checked": report.checked},
        )
    )
    return ChainReportRead(
        ok=report.ok,
        checked=report.checked,
        first_bad_seq=report.first_bad_seq,
        reason=report.reason,
        anchor=report.anchor,
    )
