"""Document flow API: the inbox, drafting (from a violation or by hand), the PDF, signing,
workflow steps, history and verification."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser, Why
from kupol.core.errors import InvalidInputError
from kupol.documents.service import ExternalSignature

router = APIRouter(prefix="/api/documents", tags=["documents"])


class FromViolation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    violation_id: int
    language: Literal["ru", "kk"] = "ru"


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["protocol", "resolution"] = "protocol"
    language: Literal["ru", "kk"] = "ru"
    case_number: str | None = Field(None, max_length=64)
    evidence_ids: list[int] = Field(default_factory=list, max_length=100)
    incident_id: int | None = Field(
        None, description="Fill place, time, case, facts and evidence from this incident."
    )
    fields: dict[str, Any] = Field(
        description="place, occurred_at, person {name, id, address}, vehicle {plate, make}, "
        "article, part, title, fine_mrp, fine_tenge, facts"
    )


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Any]


class Sign(BaseModel):
    """Empty: sign with your key on this server. Or a signature you made over the draft's PDF
    (``GET /api/documents/{id}/pdf``) with your certificate."""

    model_config = ConfigDict(extra="forbid")

    algorithm: Literal["ecdsa-p256-sha256", "ed25519"] | None = None
    signature: str | None = Field(None, max_length=2000, description="Base64.")
    certificate: str | None = Field(None, max_length=20000, description="PEM.")


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)


class Issue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    algorithm: Literal["ecdsa-p256-sha256", "ed25519"] = "ecdsa-p256-sha256"
    days: int = Field(365, ge=1, le=1095)


@router.get("")
def inbox(
    container: ContainerDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    """The document inbox (newest first) and counts by state."""
    rows = container.documents.list(actor=user, status=status or None)
    return {
        "documents": [asdict(r) for r in rows],
        "counts": container.documents.counts(actor=user),
    }


@router.post("/from-violation", status_code=201)
def draft_from_violation(
    body: FromViolation, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Draft a resolution from an approved violation."""
    return asdict(
        container.documents.draft_from_violation(
            violation_id=body.violation_id, language=body.language, actor=user
        )
    )


@router.post("", status_code=201)
def draft(body: Draft, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Draft a protocol (or resolution) by hand, referring to evidence items."""
    return asdict(
        container.documents.draft(
            kind=body.kind,
            language=body.language,
            fields=body.fields,
            actor=user,
            case_number=body.case_number,
            evidence_ids=body.evidence_ids,
            incident_id=body.incident_id,
        )
    )


@router.get("/{document_id}")
def get_document(
    document_id: int, container: ContainerDep, user: CurrentUser, why: Why
) -> dict[str, Any]:
    """A document with its content, history and signatures (audited)."""
    return asdict(container.documents.get(document_id=document_id, actor=user, why=why))


@router.patch("/{document_id}")
def edit(
    document_id: int, body: Edit, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Change a draft."""
    return asdict(container.documents.edit(document_id=document_id, fields=body.fields, actor=user))


@router.get("/{document_id}/pdf", response_class=Response)
async def pdf(document_id: int, container: ContainerDep, user: CurrentUser, why: Why) -> Response:
    """The PDF (the signed one, or a draft's preview; audited)."""
    number, data = await asyncio.to_thread(
        container.documents.pdf, document_id=document_id, actor=user, why=why
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{document_id}/sign")
async def sign(
    document_id: int, body: Sign, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Sign a draft with your certificate (verified before it is recorded)."""
    external = None
    if body.signature or body.certificate:
        if not (body.signature and body.certificate and body.algorithm):
            raise InvalidInputError("give algorithm, signature and certificate together")
        external = ExternalSignature(
            algorithm=body.algorithm, signature_b64=body.signature, certificate_pem=body.certificate
        )
    view = await asyncio.to_thread(
        container.documents.sign, document_id=document_id, actor=user, external=external
    )
    return asdict(view)


@router.post("/{document_id}/{action}")
def step(
    document_id: int,
    action: Literal["serve", "appeal", "pay", "cancel"],
    body: Step,
    container: ContainerDep,
    user: CurrentUser,
) -> dict[str, Any]:
    """A workflow step: serve (note: how), appeal (note), pay, cancel (note: why)."""
    return asdict(
        container.documents.act(document_id=document_id, action=action, note=body.note, actor=user)
    )


@router.get("/{document_id}/verify")
async def verify(document_id: int, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Check the signed PDF, its signatures and certificates, and the record."""
    return await asyncio.to_thread(container.documents.verify, document_id=document_id, actor=user)


@router.get("/{document_id}/signature")
def signature_bundle(
    document_id: int, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Signatures, certificates and trust anchors, for ``kupol documents verify PDF BUNDLE``."""
    return container.documents.bundle(document_id=document_id, actor=user)


certificates = APIRouter(prefix="/api/certificates", tags=["documents"])


@certificates.get("/{username}")
def get_certificate(username: str, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """A user's signing certificate (PEM) and fingerprint."""
    return container.documents.certificate(username=username, actor=user)


@certificates.post("/{username}", status_code=201)
def issue_certificate(
    username: str, body: Issue, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Issue ``username`` a signing key and certificate from the deployment's CA (admins)."""
    return container.documents.issue_certificate(
        username=username, algorithm=body.algorithm, days=body.days, actor=user
    )
