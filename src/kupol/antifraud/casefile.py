"""A fraud group's case file, exported to the evidence vault.

An analyst who has found an organised group (:mod:`kupol.antifraud.groups`) hands it to an
investigation as one document: the group's ties (numbers, SIMs, handsets, cells, and the
accounts its victims were asked to pay, with those transfers), every call its numbers made in
the window with the verdict and reasons, the reports about its numbers and accounts to the
Anti-Fraud Centre, and the recordings of its numbers with the similar voices found
elsewhere. The document (JSON, format ``kupol-fraud-group/1``) goes into the evidence vault
under the case's number, where custody, retention and signed export packages take over.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from kupol.antifraud.calls import CallScreening, reason_texts
from kupol.antifraud.groups import FraudGroup
from kupol.antifraud.model import AfcReport, CallDecision
from kupol.antifraud.voiceprints import VoiceChecks
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.messages import utcnow
from kupol.evidence.service import EvidenceVault, Metadata

FORMAT = "kupol-fraud-group/1"
MAX_CALLS = 20_000


@dataclass(frozen=True, kw_only=True)
class Exported:
    """Where a case file went."""

    evidence_item: int
    sha256: str
    filename: str
    case_number: str
    numbers: int
    accounts: int
    calls: int
    calls_truncated: bool
    recordings: int
    reports: int


class GroupCaseFiles:
    """Builds a group's case file and puts it in the evidence vault."""

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        calls: CallScreening,
        voices: VoiceChecks,
        vault: EvidenceVault,
    ) -> None:
        self._db = db
        self._audit = audit
        self._calls = calls
        self._voices = voices
        self._vault = vault

    def export(
        self,
        *,
        actor: Principal,
        why: Justification,
        number: str,
        case_number: str,
        hours: int = 24,
    ) -> Exported:
        """Export the group that ``number`` belongs to (among the last ``hours``' calls) to
        the vault under ``case_number``; audited.

        Raises:
            InvalidInputError: no case number, or not a telephone number.
            NotFoundError: the number is in no group now.
            PermissionDeniedError: the actor may not read numbers or put evidence in the vault.
        """
        actor.require(Permission.NUMBERS_READ)
        actor.require(Permission.EVIDENCE_INGEST)
        case_number = case_number.strip()
        if not 1 <= len(case_number) <= 64 or not case_number.isprintable():
            raise InvalidInputError("case_number must be 1–64 printable characters")
        e164 = self._calls.numbering.classify(number).e164
        found = self._calls.groups(actor=actor, why=why, hours=hours)
        group = next((g for g in found if e164 in g.numbers), None)
        if group is None:
            raise NotFoundError(f"{e164} is in no fraud group of the last {hours} hours")
        # Group ids mean nothing outside the search that made them: linked groups go into the
        # file by their numbers and the accounts they share.
        linked = [
            {"numbers": g.numbers, "accounts": sorted(set(g.accounts) & set(group.accounts))}
            for g in found
            if g.id in group.linked
        ]
        document = self._document(group, actor=actor, why=why, hours=hours, case=case_number)
        document["group"].pop("linked", None)
        document["linked_groups"] = linked
        data = json.dumps(document, ensure_ascii=False, indent=1).encode()
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        filename = f"fraud-group-{group.numbers[0].lstrip('+')}-{stamp}.json"
        ingested = self._vault.ingest(
            io.BytesIO(data),
            Metadata(
                filename=filename, media_type="application/json", category="document",
                case_number=case_number,
                description=f"Fraud group case file ({FORMAT}): {len(group.numbers)} numbers, "
                f"{len(group.accounts)} accounts, {document['calls_total']} calls; "
                f"exported by {actor.username} ({why.purpose})",
            ),
            actor=actor,
        )  # fmt: skip
        result = Exported(
            evidence_item=ingested.item.id, sha256=ingested.item.sha256, filename=filename,
            case_number=case_number, numbers=len(group.numbers), accounts=len(group.accounts),
            calls=len(document["calls"]),
            calls_truncated=document["calls_truncated"], recordings=len(document["voices"]),
            reports=len(document["afc_reports"]),
        )  # fmt: skip
        self._audit.append(
            AuditRecord(
                actor=actor.username, roles=actor.roles, action="export",
                resource_type="fraud_group", resource_id=e164,
                details={**asdict(result), "purpose": why.purpose},
            )
        )  # fmt: skip
        return result

    def _document(
        self, group: FraudGroup, *, actor: Principal, why: Justification, hours: int, case: str
    ) -> dict[str, Any]:
        since = utcnow() - timedelta(hours=hours)
        with self._db.reader() as session:
            decisions = list(
                session.scalars(
                    select(CallDecision)
                    .where(CallDecision.caller.in_(group.numbers), CallDecision.at >= since)
                    .order_by(CallDecision.at, CallDecision.id)
                    .limit(MAX_CALLS + 1)
                )
            )
            reports = list(
                session.scalars(
                    select(AfcReport)
                    .where(AfcReport.subject.in_([*group.numbers, *group.accounts]))
                    .order_by(AfcReport.reported_at)
                )
            )
        calls = [
            {
                "call_id": d.call_id, "at": d.at.isoformat(), "caller": d.caller,
                "called": d.called, "international": d.international, "verdict": d.verdict,
                "reasons": reason_texts(list(d.reasons or [])), "imsi": d.imsi, "imei": d.imei,
                "cell": d.cell,
            }
            for d in decisions[:MAX_CALLS]
        ]  # fmt: skip
        return {
            "format": FORMAT,
            "exported_at": utcnow().isoformat(),
            "exported_by": actor.username,
            "purpose": why.purpose,
            "case_number": case,
            "window": {"from": since.isoformat(), "hours": hours},
            "group": _plain(asdict(group)),
            "calls_total": len(calls),
            "calls_truncated": len(decisions) > MAX_CALLS,
            "calls": calls,
            "afc_reports": [
                {
                    "exchange_id": r.exchange_id,
                    "subject": r.subject,
                    "category": r.category,
                    "summary": r.summary,
                    "reported_at": r.reported_at.isoformat(),
                    "status": r.status,
                    "result": r.result,
                }
                for r in reports
            ],
            "voices": self._voices.linked_to_numbers(group.numbers),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
