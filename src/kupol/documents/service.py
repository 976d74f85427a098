"""The document flow: draft a protocol or resolution (from a traffic violation, or by hand for
a case with its evidence), render it to PDF in Russian or Kazakh, sign it with the officer's
X.509 certificate, move it through its workflow, and verify it.

A signed document's PDF is kept in the evidence vault (category ``document``, with its own
chain of custody); its signature is over the PDF's exact bytes. Verification checks that the
vault's PDF is the one signed, that the signature and the certificate hold, and that the
document's record is the one the signed PDF carries — so an edit of the record after signing
shows.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kupol.cameras.model import Camera
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.auth.model import User
from kupol.core.db import Database, fetch
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.documents import pki
from kupol.documents.model import Document, DocumentEvent, DocumentSignature
from kupol.documents.render import KINDS, LANGUAGES, canonical, render_pdf
from kupol.documents.workflow import FINAL, STEPS, allowed_actions
from kupol.evidence.model import EvidenceItem
from kupol.evidence.service import EvidenceVault, Metadata
from kupol.incidents.model import Incident, IncidentEvidence
from kupol.traffic.model import RegisteredVehicle, Violation

EDITABLE = (
    "place",
    "occurred_at",
    "person",
    "vehicle",
    "article",
    "part",
    "title",
    "fine_mrp",
    "fine_tenge",
    "facts",
)
TEXT_LIMIT = 4000


@dataclass(frozen=True, kw_only=True)
class DocumentRow:
    """A document in a list (no personal data)."""

    id: int
    number: str | None
    kind: str
    language: str
    status: str
    article: str
    violation_id: int | None
    case_number: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    actions: list[str]


@dataclass(frozen=True, kw_only=True)
class DocumentView(DocumentRow):
    """A document with its content, history and signatures."""

    content: dict[str, Any]
    pdf_sha256: str | None
    pdf_item_id: int | None
    history: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ExternalSignature:
    """A signature made elsewhere (the officer's own token or NCALayer) over the draft's PDF."""

    algorithm: str
    signature_b64: str
    certificate_pem: str


class DocumentService:
    """Drafts, renders, signs, moves and verifies documents."""

    def __init__(
        self, *, db: Database, audit: AuditLog, vault: EvidenceVault, authority: pki.Authority
    ) -> None:
        self._db = db
        self._audit = audit
        self._vault = vault
        self.authority = authority

    # ------------------------------------------------------------------ drafting
    def draft_from_violation(
        self, *, violation_id: int, language: str, actor: Principal
    ) -> DocumentView:
        """A resolution drafted from an approved violation: its qualification, fine, place,
        plate, the registered owner and the evidence files' hashes."""
        actor.require(Permission.DOCUMENTS_WRITE)
        _language(language)
        with self._db.unit_of_work() as session:
            row = session.get(Violation, violation_id)
            if row is None:
                raise NotFoundError(f"no violation {violation_id}")
            if row.status != "approved":
                raise ConflictError(
                    f"violation {violation_id} is {row.status}: only an approved violation gets "
                    "a resolution"
                )
            live = session.scalar(
                select(Document.id).where(
                    Document.violation_id == violation_id, Document.status != "cancelled"
                )
            )
            if live is not None:
                raise ConflictError(f"violation {violation_id} already has document {live}")
            camera = session.get(Camera, row.camera_id)
            owner = session.get(RegisteredVehicle, row.plate) if row.plate else None
            content: dict[str, Any] = {
                "place": f"{camera.name} ({camera.latitude:.5f}, {camera.longitude:.5f})"
                if camera
                else row.camera_id,
                "occurred_at": row.occurred_at.isoformat(),
                "person": {"name": owner.owner_name, "id": owner.owner_id, "address": owner.address}
                if owner
                else None,
                "vehicle": {"plate": row.plate, "make": owner.make if owner else None}
                if row.plate
                else None,
                "article": row.article,
                "part": row.part,
                "title": row.title,
                "fine_mrp": row.fine_mrp,
                "fine_tenge": row.fine_tenge,
                "facts": _facts(row),
                "evidence": [
                    {"label": f"{e.get('kind', 'file')} {i}", "sha256": e.get("sha256", "")}
                    for i, e in enumerate(row.evidence)
                ],
            }
            doc = self._new(
                session,
                "resolution",
                language,
                content,
                actor,
                violation_id=violation_id,
                case_number=None,
            )
            return self._view(session, doc)

    def draft(
        self,
        *,
        kind: str,
        language: str,
        fields: dict[str, Any],
        actor: Principal,
        case_number: str | None = None,
        evidence_ids: list[int] | None = None,
        incident_id: int | None = None,
    ) -> DocumentView:
        """A document drafted by hand (a protocol for an incident or case), referring to
        evidence items of the vault by their ids. From an incident, its place, time, case,
        description and linked evidence fill what ``fields`` leaves out."""
        actor.require(Permission.DOCUMENTS_WRITE)
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        _language(language)
        content = _checked_fields(fields)
        if not content.get("article"):
            raise InvalidInputError("give the article of the Code of Administrative Offences")
        ids = list(evidence_ids or [])
        with self._db.unit_of_work() as session:
            if incident_id is not None:
                incident = session.get(Incident, incident_id)
                if incident is None:
                    raise InvalidInputError(f"no incident {incident_id}")
                content.setdefault(
                    "place", f"{incident.title} ({incident.latitude:.5f}, {incident.longitude:.5f})"
                )
                content.setdefault("occurred_at", incident.occurred_from.isoformat())
                content.setdefault("facts", incident.description or incident.title)
                content["incident"] = incident.number
                case_number = case_number or incident.case_number
                linked = session.scalars(
                    select(IncidentEvidence.item_id).where(
                        IncidentEvidence.incident_id == incident_id
                    )
                )
                ids += [i for i in linked if i not in ids]
            refs = []
            for item_id in ids:
                item = session.get(EvidenceItem, item_id)
                if item is None:
                    raise InvalidInputError(f"no evidence item {item_id}")
                refs.append({"label": f"#{item.id} {item.filename}", "sha256": item.sha256})
            content["evidence"] = refs
            doc = self._new(
                session, kind, language, content, actor, violation_id=None, case_number=case_number
            )
            return self._view(session, doc)

    def _new(
        self,
        session: Session,
        kind: str,
        language: str,
        content: dict[str, Any],
        actor: Principal,
        *,
        violation_id: int | None,
        case_number: str | None,
    ) -> Document:
        now = utcnow()
        doc = Document(
            kind=kind,
            language=language,
            status="draft",
            content={},
            violation_id=violation_id,
            case_number=case_number,
            created_by=actor.username,
            created_at=now,
            updated_at=now,
        )
        session.add(doc)
        session.flush()
        doc.number = f"{'P' if kind == 'protocol' else 'R'}-{now:%Y}-{doc.id:06d}"
        doc.content = {
            **content,
            "kind": kind,
            "language": language,
            "number": doc.number,
            "date": now.isoformat(timespec="seconds"),
            "officer": actor.username,
            "case_number": case_number,
            "violation_id": violation_id,
        }
        self._event(session, doc, actor, "create", None, "draft", None)
        return doc

    def edit(self, *, document_id: int, fields: dict[str, Any], actor: Principal) -> DocumentView:
        """Change a draft's fields (a signed document never changes)."""
        actor.require(Permission.DOCUMENTS_WRITE)
        changes = _checked_fields(fields)
        with self._db.unit_of_work() as session:
            doc = _document(session, document_id, lock=True)
            if doc.status != "draft":
                raise ConflictError(
                    f"document {doc.number} is {doc.status}: only a draft can be edited (cancel "
                    "it and draft a new one)"
                )
            doc.content = {**doc.content, **changes}
            doc.updated_at = utcnow()
            self._event(session, doc, actor, "edit", "draft", "draft", ", ".join(sorted(changes)))
            return self._view(session, doc)

    # ------------------------------------------------------------------ signing
    def sign(
        self, *, document_id: int, actor: Principal, external: ExternalSignature | None = None
    ) -> DocumentView:
        """Sign a draft: with the officer's key on this server, or with a signature they made
        elsewhere over the draft's PDF. Either is verified before it is recorded; the PDF goes
        to the evidence vault."""
        actor.require(Permission.DOCUMENTS_SIGN)
        with self._db.reader() as session:
            doc = _document(session, document_id)
            if doc.status != "draft":
                raise ConflictError(f"document {doc.number} is {doc.status}, not a draft")
            content = dict(doc.content)
        pdf = render_pdf(content)
        now = utcnow()
        if external is None:
            signer = self.authority.signer(actor.username)
            algorithm, signature = signer.algorithm, signer.sign(pdf)
            certificate = signer.certificate
        else:
            algorithm = external.algorithm
            certificate = pki.load_certificate(external.certificate_pem)
            try:
                signature = base64.b64decode(external.signature_b64, validate=True)
            except binascii.Error:
                raise InvalidInputError("the signature is not base64") from None
        if pki.common_name(certificate) != actor.username:
            raise InvalidInputError(
                f"the certificate is {pki.common_name(certificate)!r}'s, not yours "
                f"({actor.username})"
            )
        verdict = pki.verify(
            pdf,
            algorithm=algorithm,
            signature=signature,
            certificate=certificate,
            anchors=self.authority.anchors(),
            at=now,
        )
        if not verdict.ok:
            raise InvalidInputError(f"the signature was refused: {verdict.reason}")
        stored = self._vault.ingest(
            io.BytesIO(pdf),
            Metadata(
                filename=f"{content['number']}.pdf",
                media_type="application/pdf",
                category="document",
                officer=actor.username,
                case_number=doc.case_number,
                description=f"{doc.kind} {content['number']}, signed by {actor.username}",
            ),
            actor=actor,
        )
        with self._db.unit_of_work() as session:
            doc = _document(session, document_id, lock=True)
            if doc.status != "draft" or doc.content != content:
                raise ConflictError(f"document {doc.number} changed while it was being signed")
            session.add(
                DocumentSignature(
                    document_id=doc.id,
                    signer=actor.username,
                    algorithm=algorithm,
                    signature=pki.b64(signature),
                    certificate=certificate.public_bytes(Encoding.PEM).decode(),
                    certificate_sha256=verdict.certificate_sha256,
                    signed_sha256=pki.sha256_hex(pdf),
                    signed_at=now,
                )
            )
            doc.pdf_sha256 = pki.sha256_hex(pdf)
            doc.pdf_item_id = stored.item.id
            self._move(session, doc, actor, "sign", None)
            return self._view(session, doc)

    def act(
        self, *, document_id: int, action: str, note: str | None, actor: Principal
    ) -> DocumentView:
        """Take a workflow step other than signing: serve, appeal, pay, cancel."""
        step = STEPS.get(action)
        if step is None or action == "sign":
            raise InvalidInputError(
                f"action must be one of {', '.join(a for a in STEPS if a != 'sign')}"
            )
        actor.require(step.permission)
        with self._db.unit_of_work() as session:
            doc = _document(session, document_id, lock=True)
            if action == "pay" and not doc.content.get("fine_mrp"):
                raise ConflictError(f"document {doc.number} imposes no fine to pay")
            self._move(session, doc, actor, action, note)
            return self._view(session, doc)

    def _move(
        self, session: Session, doc: Document, actor: Principal, action: str, note: str | None
    ) -> None:
        step = STEPS[action]
        if doc.status not in step.source:
            possible = ", ".join(allowed_actions(doc.status)) or "none: it is final"
            raise ConflictError(
                f"document {doc.number} is {doc.status}: it cannot be {action}ed "
                f"(possible: {possible})".replace("cancel" + "ed", "cancelled")
            )
        clean = (note or "").strip()
        if step.needs_note and len(clean) < 3:
            raise InvalidInputError(f"say how or why ({action} needs a note)")
        if len(clean) > TEXT_LIMIT:
            raise InvalidInputError(f"the note is longer than {TEXT_LIMIT} characters")
        before = doc.status
        doc.status = step.target
        doc.updated_at = utcnow()
        self._event(session, doc, actor, action, before, step.target, clean or None)

    def _event(
        self,
        session: Session,
        doc: Document,
        actor: Principal,
        action: str,
        before: str | None,
        after: str,
        note: str | None,
    ) -> None:
        seq = (
            session.scalar(
                select(func.max(DocumentEvent.seq)).where(DocumentEvent.document_id == doc.id)
            )
            or 0
        ) + 1
        session.add(
            DocumentEvent(
                document_id=doc.id,
                seq=seq,
                at=utcnow(),
                actor=actor.username,
                action=action,
                from_status=before,
                to_status=after,
                note=note,
            )
        )
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action=f"document.{action}",
                resource_type="document",
                resource_id=str(doc.id),
                case_number=doc.case_number,
                details={"number": doc.number, "from": before, "to": after},
            ),
            session=session,
        )

    # ------------------------------------------------------------------ reading
    def list(
        self, *, actor: Principal, status: str | None = None, limit: int = 200
    ) -> list[DocumentRow]:
        """The document inbox, newest first (no personal data)."""
        actor.require(Permission.DOCUMENTS_READ)
        with self._db.reader() as session:
            query = select(Document).order_by(Document.updated_at.desc(), Document.id.desc())
            if status:
                query = query.where(Document.status == status)
            return [_row(d) for d in session.scalars(query.limit(max(1, min(limit, 1000))))]

    def counts(self, *, actor: Principal) -> dict[str, int]:
        """Documents by state."""
        actor.require(Permission.DOCUMENTS_READ)
        with self._db.reader() as session:
            rows = session.execute(select(Document.status, func.count()).group_by(Document.status))
            return {str(s): int(n) for s, n in rows}

    def get(self, *, document_id: int, actor: Principal, why: Justification) -> DocumentView:
        """A document with its content (personal data: audited with the purpose)."""
        actor.require(Permission.DOCUMENTS_READ)
        with self._db.unit_of_work() as session:
            doc = _document(session, document_id)
            self._viewed(session, doc, actor, why, "metadata")
            return self._view(session, doc)

    def pdf(self, *, document_id: int, actor: Principal, why: Justification) -> tuple[str, bytes]:
        """The PDF: the signed one from the vault, or a draft's preview (audited)."""
        actor.require(Permission.DOCUMENTS_READ)
        with self._db.unit_of_work() as session:
            doc = _document(session, document_id)
            self._viewed(session, doc, actor, why, "pdf")
            number, sha, content = doc.number or str(doc.id), doc.pdf_sha256, dict(doc.content)
        if sha is None:
            return number, render_pdf(content)
        return number, self._vault.store.read(sha)

    def _viewed(
        self, session: Session, doc: Document, actor: Principal, why: Justification, what: str
    ) -> None:
        self._audit.append(
            AuditRecord(
                actor=actor.username,
                roles=actor.roles,
                action="view",
                resource_type="document",
                resource_id=str(doc.id),
                purpose=why.purpose,
                case_number=why.case_number,
                client=why.client,
                details={"number": doc.number, "what": what},
            ),
            session=session,
        )

    def verify(self, *, document_id: int, actor: Principal) -> dict[str, Any]:
        """Check a signed document: the vault's PDF is the one signed, each signature and its
        certificate hold, and the signed PDF carries the record as it is now."""
        actor.require(Permission.DOCUMENTS_READ)
        with self._db.reader() as session:
            doc = _document(session, document_id)
            signatures = list(
                session.scalars(
                    select(DocumentSignature)
                    .where(DocumentSignature.document_id == doc.id)
                    .order_by(DocumentSignature.id)
                )
            )
            number, sha, content = doc.number, doc.pdf_sha256, dict(doc.content)
        if sha is None or not signatures:
            return {
                "ok": False,
                "number": number,
                "problems": ["the document is not signed"],
                "signatures": [],
            }
        problems: list[str] = []
        try:
            pdf = self._vault.store.read(sha)
        except NotFoundError:
            return {
                "ok": False,
                "number": number,
                "signatures": [],
                "problems": ["the signed PDF is missing from the vault"],
            }
        if pki.sha256_hex(pdf) != sha:
            problems.append(
                f"the vault's PDF has SHA-256 {pki.sha256_hex(pdf)}, not the signed {sha}"
            )
        if canonical(content) not in pdf:
            problems.append("the document's record was changed after it was signed")
        found = []
        for sig in signatures:
            verdict = pki.verify(
                pdf,
                algorithm=sig.algorithm,
                signature=base64.b64decode(sig.signature),
                certificate=pki.load_certificate(sig.certificate),
                anchors=self.authority.anchors(),
                at=sig.signed_at,
            )
            if sig.signed_sha256 != sha:
                problems.append(
                    f"{sig.signer}'s signature is over another file ({sig.signed_sha256})"
                )
            if not verdict.ok:
                problems.append(f"{sig.signer}'s signature: {verdict.reason}")
            found.append(
                {
                    "signer": verdict.signer,
                    "ok": verdict.ok,
                    "reason": verdict.reason,
                    "certificate_sha256": verdict.certificate_sha256,
                    "issuer": verdict.issuer,
                    "signed_at": sig.signed_at.isoformat(),
                    "algorithm": sig.algorithm,
                }
            )
        return {
            "ok": not problems,
            "number": number,
            "pdf_sha256": sha,
            "problems": problems,
            "signatures": found,
        }

    def bundle(self, *, document_id: int, actor: Principal) -> dict[str, Any]:
        """What an offline check needs beside the PDF: signatures, certificates, the CA."""
        actor.require(Permission.DOCUMENTS_READ)
        with self._db.reader() as session:
            doc = _document(session, document_id)
            signatures = list(
                session.scalars(
                    select(DocumentSignature)
                    .where(DocumentSignature.document_id == doc.id)
                    .order_by(DocumentSignature.id)
                )
            )
            if not signatures:
                raise ConflictError(f"document {doc.number} is not signed")
            return {
                "number": doc.number,
                "pdf_sha256": doc.pdf_sha256,
                "signatures": [
                    {
                        "signer": s.signer,
                        "algorithm": s.algorithm,
                        "signature": s.signature,
                        "certificate": s.certificate,
                        "signed_at": s.signed_at.isoformat(),
                    }
                    for s in signatures
                ],
                "trust_anchors": [
                    a.public_bytes(Encoding.PEM).decode() for a in self.authority.anchors()
                ],
            }

    # ------------------------------------------------------------------ certificates
    def issue_certificate(
        self, *, username: str, algorithm: str, days: int, actor: Principal
    ) -> dict[str, Any]:
        """Issue a user a signing key and certificate from the deployment's CA (audited)."""
        actor.require(Permission.USERS_MANAGE)
        with self._db.unit_of_work() as session:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                raise NotFoundError(f"no user {username}")
            cert = self.authority.issue(username, algorithm=algorithm, days=days)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="certificate.issue",
                    resource_type="certificate",
                    resource_id=username,
                    details={
                        "sha256": pki.fingerprint(cert),
                        "algorithm": algorithm,
                        "not_after": cert.not_valid_after_utc.isoformat(),
                    },
                ),
                session=session,
            )
        return certificate_info(username, cert)

    def certificate(self, *, username: str, actor: Principal) -> dict[str, Any]:
        """A user's signing certificate (PEM, fingerprint, validity)."""
        actor.require(Permission.DOCUMENTS_READ)
        cert = self.authority.certificate(username)
        if cert is None:
            raise NotFoundError(f"{username} has no signing certificate")
        return certificate_info(username, cert)

    def _view(self, session: Session, doc: Document) -> DocumentView:
        history = [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in session.scalars(
                select(DocumentEvent)
                .where(DocumentEvent.document_id == doc.id)
                .order_by(DocumentEvent.seq)
            )
        ]
        signatures = [
            {
                "signer": s.signer,
                "algorithm": s.algorithm,
                "signed_at": s.signed_at,
                "certificate_sha256": s.certificate_sha256,
                "signed_sha256": s.signed_sha256,
            }
            for s in session.scalars(
                select(DocumentSignature)
                .where(DocumentSignature.document_id == doc.id)
                .order_by(DocumentSignature.id)
            )
        ]
        row = _row(doc)
        return DocumentView(
            **row.__dict__,
            content=dict(doc.content),
            pdf_sha256=doc.pdf_sha256,
            pdf_item_id=doc.pdf_item_id,
            history=history,
            signatures=signatures,
        )


def verify_offline(pdf: bytes, bundle: dict[str, Any]) -> list[str]:
    """Problems with a PDF and its signature bundle (``GET /api/documents/{id}/signature``),
    checked without a server: none means every signature holds and chains to a trust anchor
    in the bundle — whose fingerprint the checker compares with the one the deployment
    publishes."""
    problems = []
    if pki.sha256_hex(pdf) != bundle.get("pdf_sha256"):
        problems.append(
            f"the PDF's SHA-256 is {pki.sha256_hex(pdf)}, not the signed {bundle.get('pdf_sha256')}"
        )
    anchors = [pki.load_certificate(a) for a in bundle.get("trust_anchors", [])]
    for sig in bundle.get("signatures", []):
        verdict = pki.verify(
            pdf,
            algorithm=sig["algorithm"],
            signature=base64.b64decode(sig["signature"]),
            certificate=pki.load_certificate(sig["certificate"]),
            anchors=anchors,
            at=datetime.fromisoformat(sig["signed_at"]),
        )
        if not verdict.ok:
            problems.append(f"{sig['signer']}'s signature: {verdict.reason}")
    if not bundle.get("signatures"):
        problems.append("the bundle holds no signature")
    return problems


def certificate_info(username: str, cert: x509.Certificate) -> dict[str, Any]:
    return {
        "username": username,
        "certificate": cert.public_bytes(Encoding.PEM).decode(),
        "sha256": pki.fingerprint(cert),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def _language(language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInputError(f"language must be one of {', '.join(LANGUAGES)}")


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInputError(
            f"unknown fields {', '.join(unknown)}; a document has {', '.join(EDITABLE)}"
        )
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("fine_mrp", "fine_tenge"):
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or value < 0
            ):
                raise InvalidInputError(f"{name} must be a number of 0 or more")
        elif name in ("person", "vehicle"):
            if value is not None and (
                not isinstance(value, dict)
                or any(not isinstance(v, str | None) or len(v or "") > 500 for v in value.values())
            ):
                raise InvalidInputError(f"{name} must be an object of short texts")
        elif name == "occurred_at":
            if value is not None:
                try:
                    parsed = datetime.fromisoformat(str(value))
                except ValueError:
                    raise InvalidInputError("occurred_at is not an ISO 8601 time") from None
                if parsed.tzinfo is None:
                    raise InvalidInputError("occurred_at needs its UTC offset")
        elif value is not None and (not isinstance(value, str) or len(value) > TEXT_LIMIT):
            raise InvalidInputError(f"{name} must be a text of up to {TEXT_LIMIT} characters")
        out[name] = value
    return out


def _facts(row: Violation) -> str:
    measured = row.measured or {}
    parts = [f"{row.title}"]
    for key in ("speed_kmh", "limit_kmh", "phase", "distance_m"):
        if key in measured:
            parts.append(f"{key} = {measured[key]}")
    return "; ".join(parts)


def _document(session: Session, document_id: int, *, lock: bool = False) -> Document:
    return fetch(session, Document, document_id, what="document", lock=lock)


def _row(doc: Document) -> DocumentRow:
    return DocumentRow(
        id=doc.id,
        number=doc.number,
        kind=doc.kind,
        language=doc.language,
        status=doc.status,
        article=str(doc.content.get("article") or ""),
        violation_id=doc.violation_id,
        case_number=doc.case_number,
        created_by=doc.created_by,
        created_at=doc.created_at,
        updated_at=doc.updated_at,
        actions=[] if doc.status in FINAL else allowed_actions(doc.status),
    )
