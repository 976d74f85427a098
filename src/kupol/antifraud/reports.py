"""Reports to the National Bank's Anti-Fraud Centre (АФЦ): suspicious numbers and accounts
with the evidence kupol holds on them, in a documented exchange format, and the check the
operator or bank owes within two working days, tracked until it is answered.

The evidence is gathered when the report is made, so the report says what was known then: for
a number, its screened calls (counts by verdict, reasons, first and last), its list entries and
whether it belongs to an organised group; for an account, the transfers to and from it that
banks asked about, and its mule listing. The exchange document (:func:`exchange_document`,
``kupol-afc-report/1``) carries the report and its evidence; nothing of the reporter's other
cases goes with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from kupol.antifraud.accounts import normalise_account
from kupol.antifraud.calls import CallScreening, in_force
from kupol.antifraud.model import (
    AfcReport,
    CallDecision,
    MuleAccount,
    NumberListEntry,
    TransferCheck,
)
from kupol.antifraud.numbers import NumberKind
from kupol.antifraud.workdays import add_working_days
from kupol.core.audit import AuditLog, AuditRecord, Justification
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database, fetch
from kupol.core.errors import ConflictError, InvalidInputError
from kupol.core.messages import utcnow

FORMAT = "kupol-afc-report/1"
CATEGORIES = (
    "call_centre", "simbox", "wangiri", "spoofing", "mule", "fraud_transfer", "other",
)  # fmt: skip
CHECK_WORKING_DAYS = 2


@dataclass(frozen=True, kw_only=True)
class ReportView:
    id: int
    exchange_id: str
    kind: str
    subject: str
    category: str
    summary: str
    evidence: dict[str, Any]
    reported_by: str
    reported_at: datetime
    due_by: datetime
    status: str
    overdue: bool
    checked_at: datetime | None
    checked_by: str | None
    result: str | None


def _view(row: AfcReport, now: datetime) -> ReportView:
    return ReportView(
        id=row.id, exchange_id=row.exchange_id, kind=row.kind, subject=row.subject,
        category=row.category, summary=row.summary, evidence=dict(row.evidence or {}),
        reported_by=row.reported_by, reported_at=row.reported_at, due_by=row.due_by,
        status=row.status, overdue=row.status == "submitted" and row.due_by < now,
        checked_at=row.checked_at, checked_by=row.checked_by, result=row.result,
    )  # fmt: skip


class AfcReports:
    """Makes, lists, exports and closes reports to the Anti-Fraud Centre."""

    def __init__(self, *, db: Database, audit: AuditLog, calls: CallScreening) -> None:
        self._db = db
        self._audit = audit
        self._calls = calls

    def report(
        self,
        *,
        actor: Principal,
        kind: str,
        subject: str,
        category: str,
        summary: str,
        why: Justification,
    ) -> ReportView:
        """Report a number or an account, with the evidence gathered now; audited.

        Raises:
            InvalidInputError: an unknown kind or category, a subject that is no number, an
                empty summary.
            ConflictError: the subject has a report still waiting for its check.
        """
        actor.require(Permission.AFC_REPORT)
        if kind not in {"number", "account"}:
            raise InvalidInputError("kind must be 'number' or 'account'")
        if category not in CATEGORIES:
            raise InvalidInputError(f"category must be one of {', '.join(CATEGORIES)}")
        if len(summary.strip()) < 10:
            raise InvalidInputError("say in a sentence what the subject did (summary)")
        subject = subject.strip()
        if kind == "number":
            placed = self._calls.numbering.classify(subject)
            if placed.kind is NumberKind.INVALID:
                raise InvalidInputError(f"{subject!r} is not a telephone number")
            subject = placed.e164
        elif not subject or len(subject) > 64 or not subject.isprintable():
            raise InvalidInputError("account must be 1–64 printable characters")
        else:
            subject = normalise_account(subject, self._calls.numbering)
        now = utcnow()
        with self._db.unit_of_work() as session:
            waiting = session.scalar(
                select(AfcReport.id).where(
                    AfcReport.subject == subject, AfcReport.status == "submitted"
                )
            )
            if waiting is not None:
                raise ConflictError(f"{subject} was reported already (report {waiting}), unchecked")
            evidence = (
                self._number_evidence(session, subject)
                if kind == "number"
                else self._account_evidence(session, subject)
            )
            row = AfcReport(
                exchange_id=str(uuid.uuid4()), kind=kind, subject=subject, category=category,
                summary=summary.strip()[:4000], evidence=evidence, reported_by=actor.username,
                reported_at=now, due_by=add_working_days(now, CHECK_WORKING_DAYS),
                status="submitted",
            )  # fmt: skip
            session.add(row)
            session.flush()
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action="report",
                    resource_type="afc_report", resource_id=str(row.id), purpose=why.purpose,
                    case_number=why.case_number, client=why.client,
                    details={"kind": kind, "subject": subject, "category": category},
                ),
                session=session,
            )  # fmt: skip
            return _view(row, now)

    def _number_evidence(self, session: Any, number: str) -> dict[str, Any]:
        since = utcnow() - timedelta(days=30)
        rows = session.execute(
            select(CallDecision.verdict, func.count(), func.min(CallDecision.at),
                   func.max(CallDecision.at))
            .where(CallDecision.caller == number, CallDecision.at >= since)
            .group_by(CallDecision.verdict)
        ).all()  # fmt: skip
        reasons: dict[str, int] = {}
        for (codes,) in session.execute(
            select(CallDecision.reasons).where(
                CallDecision.caller == number, CallDecision.at >= since
            )
        ):
            for code in codes or []:
                reasons[code] = reasons.get(code, 0) + 1
        callees = session.scalar(
            select(func.count(func.distinct(CallDecision.called))).where(
                CallDecision.caller == number, CallDecision.at >= since
            )
        )
        entries = session.scalars(
            select(NumberListEntry)
            .where(NumberListEntry.number == number)
            .order_by(NumberListEntry.added_at, NumberListEntry.id)
        )
        now = utcnow()
        lists = [
            {"list": e.list, "source": e.source, "active": e.active,
             "in_force": in_force(e, now), "added_at": e.added_at.isoformat(),
             "expires_at": e.expires_at.isoformat() if e.expires_at else None}
            for e in entries
        ]  # fmt: skip
        firsts = [r[2] for r in rows if r[2]]
        lasts = [r[3] for r in rows if r[3]]
        return {
            "calls_30_days": {verdict: count for verdict, count, _, _ in rows},
            "distinct_callees": int(callees or 0),
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "first_seen": min(firsts).isoformat() if firsts else None,
            "last_seen": max(lasts).isoformat() if lasts else None,
            "lists": lists,
        }

    def _account_evidence(self, session: Any, account: str) -> dict[str, Any]:
        checks = list(
            session.scalars(
                select(TransferCheck)
                .where(or_(TransferCheck.payee == account, TransferCheck.payer == account))
                .order_by(TransferCheck.asked_at)
                .limit(1000)
            )
        )
        incoming = [c for c in checks if c.payee == account]
        mule = session.scalar(select(MuleAccount).where(MuleAccount.account == account))
        return {
            "transfers_in": len(incoming),
            "distinct_payers": len({c.payer for c in incoming}),
            "amount_in": {
                currency: round(sum(c.amount for c in incoming if c.currency == currency), 2)
                for currency in sorted({c.currency for c in incoming})
            },
            "held_in": sum(1 for c in incoming if c.decision == "hold"),
            "cancelled_in": sum(1 for c in incoming if c.status == "cancelled"),
            "transfers_out": len(checks) - len(incoming),
            "reasons": sorted({r for c in incoming for r in (c.reasons or [])}),
            "mule_list": (
                {"kind": mule.kind, "source": mule.source, "active": mule.active} if mule else None
            ),
        }

    def check(
        self, *, actor: Principal, report_id: int, result: str, checked_by: str, note: str
    ) -> ReportView:
        """Record the operator's or bank's answer to a report; audited.

        Raises:
            NotFoundError: no such report.
            ConflictError: answered already.
            InvalidInputError: a result other than confirmed or rejected, no checker or note.
        """
        actor.require(Permission.AFC_REPORT)
        if result not in {"confirmed", "rejected"}:
            raise InvalidInputError("result must be 'confirmed' or 'rejected'")
        if len(checked_by.strip()) < 2 or len(note.strip()) < 3:
            raise InvalidInputError("say who checked (checked_by) and what they found (note)")
        now = utcnow()
        with self._db.unit_of_work() as session:
            row = fetch(session, AfcReport, report_id, what="report", lock=True)
            if row.status != "submitted":
                raise ConflictError(f"report {report_id} was {row.status} already")
            row.status, row.checked_at = result, now
            row.checked_by, row.result = checked_by.strip()[:120], note.strip()[:4000]
            self._audit.append(
                AuditRecord(
                    actor=actor.username, roles=actor.roles, action=f"check_{result}",
                    resource_type="afc_report", resource_id=str(row.id),
                    details={"checked_by": row.checked_by, "late": now > row.due_by},
                ),
                session=session,
            )  # fmt: skip
            return _view(row, now)

    def exchange(
        self, *, actor: Principal, why: Justification, report_id: int, organisation: str
    ) -> dict[str, Any]:
        """The report's exchange document, to send to the Centre (audited as an export).

        Raises:
            NotFoundError: no such report.
        """
        actor.require(Permission.AFC_REPORT)
        with self._db.reader() as session:
            view = _view(fetch(session, AfcReport, report_id, what="report"), utcnow())
        self._audit.access(
            actor=actor, why=why, action="export", resource_type="afc_report",
            resource_id=str(report_id), details={"format": FORMAT},
        )  # fmt: skip
        return exchange_document(view, reporter_org=organisation)

    def reports(
        self,
        *,
        actor: Principal,
        why: Justification,
        status: str | None = None,
        overdue: bool = False,
        limit: int = 200,
    ) -> list[ReportView]:
        """Reports, newest first; ``overdue``: only those waiting past their due time
        (audited: subjects are personal data)."""
        actor.require(Permission.AFC_REPORT)
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        now = utcnow()
        query = select(AfcReport).order_by(AfcReport.reported_at.desc(), AfcReport.id.desc())
        if status:
            query = query.where(AfcReport.status == status)
        if overdue:
            query = query.where(AfcReport.status == "submitted", AfcReport.due_by < now)
        with self._db.reader() as session:
            rows = [_view(r, now) for r in session.scalars(query.limit(limit))]
        self._audit.access(
            actor=actor, why=why, action="search", resource_type="afc_report",
            details={"status": status, "overdue": overdue, "returned": [r.id for r in rows]},
        )  # fmt: skip
        return rows

    def summary(self, *, actor: Principal) -> dict[str, int]:
        """Reports by state, with those awaiting their check past its due time (counts only:
        no subject, so no purpose asked)."""
        actor.require(Permission.AFC_REPORT)
        now = utcnow()
        with self._db.reader() as session:
            counts = dict(
                session.execute(
                    select(AfcReport.status, func.count()).group_by(AfcReport.status)
                ).all()
            )
            overdue = session.scalar(
                select(func.count()).where(AfcReport.status == "submitted", AfcReport.due_by < now)
            )
        return {
            "submitted": int(counts.get("submitted", 0)),
            "overdue": int(overdue or 0),
            "confirmed": int(counts.get("confirmed", 0)),
            "rejected": int(counts.get("rejected", 0)),
        }


def exchange_document(report: ReportView, *, reporter_org: str) -> dict[str, Any]:
    """The report as the exchange carries it (``kupol-afc-report/1``; docs/antifraud.md)."""
    check = None
    if report.checked_at:
        check = {
            "at": report.checked_at.isoformat(),
            "by": report.checked_by,
            "result": report.status,
            "note": report.result,
        }
    return {
        "format": FORMAT,
        "id": report.exchange_id,
        "reporter": {"organisation": reporter_org, "officer": report.reported_by},
        "reported_at": report.reported_at.isoformat(),
        "check_due_by": report.due_by.isoformat(),
        "subject": {"kind": report.kind, "value": report.subject},
        "category": report.category,
        "summary": report.summary,
        "evidence": report.evidence,
        "status": report.status,
        "check": check,
    }
