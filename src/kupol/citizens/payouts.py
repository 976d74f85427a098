"""Citizens' rewards, stored: a fine paid for a violation a citizen reported earns the case's
first valid report its reward (:mod:`kupol.citizens.rewards`: a share of what was collected,
capped per reward and per month), accrued in the double-entry ledger
(:mod:`kupol.citizens.ledger`) whose entries are kept append-only in ``citizen_ledger`` and
replayed; payouts go out in batches (a CSV for the payment provider) and come back settled;
the ledger reconciles.

A fine paid once accrues once (the ledger refuses a second accrual of a report), a duplicate
report of the same event earns nothing, and the month's cap counts what was accrued.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kupol.citizens.ledger import Ledger, export_batch_csv
from kupol.citizens.ledger_types import (
    Entry,
    EntryKind,
    PayoutBatch,
    PayoutLine,
    Posting,
    ReconcileReport,
    ReportStatus,
    Settlement,
)
from kupol.citizens.rewards import RewardDecision, RewardRules, load_reward_rules
from kupol.citizens.store import LedgerEntryRow, ReportRow
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.auth.service import SYSTEM
from kupol.core.db import Database
from kupol.core.errors import ConflictError


class CitizenRewards:
    """Rewards on paid fines, the ledger stored, payouts (see the module)."""

    def __init__(self, *, db: Database, audit: AuditLog, rules: RewardRules | None = None) -> None:
        self._db = db
        self._audit = audit
        self.rules = rules or load_reward_rules()
        self._lock = threading.Lock()

    def ledger(self) -> Ledger:
        """The ledger as stored (replayed from its entries)."""
        with self._db.reader() as session:
            rows = session.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.seq))
            return Ledger.from_entries([entry_from(r.entry) for r in rows])

    def _append(self, ledger: Ledger, before: int) -> None:
        """Store the entries ``ledger`` made after the first ``before``."""
        new = ledger.entries[before:]
        try:
            with self._db.unit_of_work() as session:
                for entry in new:
                    session.add(LedgerEntryRow(seq=entry.seq, kind=entry.kind.value,
                                               entry=entry_to(entry)))  # fmt: skip
        except IntegrityError as exc:  # another process wrote the same seq first
            raise ConflictError("the ledger moved on meanwhile: try again") from exc

    def on_paid(self, violation_id: int, paid_tenge: int, paid_on: date) -> RewardDecision | None:
        """A fine for ``violation_id`` was paid: the case's first valid report earns its
        reward (None when no citizen reported it)."""
        with self._lock:
            with self._db.reader() as session:
                winner = session.scalar(
                    select(ReportRow).where(ReportRow.violation_id == violation_id,
                                            ReportRow.status == "confirmed")
                    .order_by(ReportRow.submitted_at, ReportRow.id).limit(1)
                )  # fmt: skip
            if winner is None or winner.offence is None:
                return None
            citizen = f"citizen-{winner.citizen_id}"
            ledger = self.ledger()
            before = len(ledger.entries)
            decision = self.rules.reward_for(
                offence=winner.offence, collected_tenge=paid_tenge, paid_on=paid_on,
                already_this_month_tenge=ledger.accrued_in_month(citizen=citizen, month=paid_on),
            )  # fmt: skip
            if decision.qualifies and decision.amount_tenge > 0:
                ledger.accrue(report_id=str(winner.id), citizen=citizen,
                              amount_tenge=decision.amount_tenge, on=paid_on)  # fmt: skip
                self._append(ledger, before)
            with self._db.unit_of_work() as session:
                row = session.get(ReportRow, winner.id)
                assert row is not None
                row.reward_tenge = decision.amount_tenge if decision.qualifies else 0
                self._audit.append(
                    AuditRecord(actor=SYSTEM.username, roles=SYSTEM.roles, action="reward",
                                resource_type="citizen_report", resource_id=str(winner.id),
                                details={"violation": violation_id, "paid_tenge": paid_tenge,
                                         "reward_tenge": decision.amount_tenge,
                                         "capped_by": decision.capped_by,
                                         "reason": decision.reason}),
                    session=session,
                )  # fmt: skip
            return decision

    def take_back(self, *, report_id: int, reason: str, on: date) -> str:
        """Reverse a report's reward, now or (in a batch awaiting its answer) at settlement;
        the citizen sees why. Returns what became of it: ``reversed``, ``pending`` or ``none``
        (nothing was accrued)."""
        with self._lock:
            ledger = self.ledger()
            if ledger.status(str(report_id)) is None:
                outcome = "none"
            elif ledger.status(str(report_id)) is ReportStatus.IN_BATCH:
                outcome = "pending"
            else:
                before = len(ledger.entries)
                ledger.reverse(report_id=str(report_id), reason=reason, on=on)
                self._append(ledger, before)
                outcome = "reversed"
            with self._db.unit_of_work() as session:
                row = session.get(ReportRow, report_id)
                if row is not None:
                    row.reward_reversal = reason
                    if outcome != "pending":
                        row.reward_tenge = 0
                    self._audit.append(
                        AuditRecord(actor=SYSTEM.username, roles=SYSTEM.roles,
                                    action="reward_taken_back", resource_type="citizen_report",
                                    resource_id=str(report_id),
                                    details={"reason": reason, "outcome": outcome}),
                        session=session,
                    )  # fmt: skip
        return outcome

    def on_refunded(self, violation_id: int, reason: str, refunded_on: date) -> list[int]:
        """A paid fine for ``violation_id`` was refunded: every reward of its reports is taken
        back. Returns the reports whose reward was."""
        with self._db.reader() as session:
            rewarded = list(session.scalars(
                select(ReportRow.id).where(ReportRow.violation_id == violation_id,
                                           ReportRow.reward_tenge > 0)))  # fmt: skip
        for report_id in rewarded:
            self.take_back(report_id=report_id, reason=f"the fine was refunded: {reason}",
                           on=refunded_on)  # fmt: skip
        return rewarded

    def _pending_reversals(self, on: date) -> None:
        """Reversals that waited for a batch's answer, applied once it came."""
        with self._db.reader() as session:
            query = select(ReportRow.id, ReportRow.reward_reversal).where(
                ReportRow.reward_reversal.is_not(None), ReportRow.reward_tenge > 0
            )
            waiting = list(session.execute(query))
        for report_id, reason in waiting:
            status = self.ledger().status(str(report_id))
            if status in (ReportStatus.ACCRUED, ReportStatus.PAID):
                self.take_back(report_id=report_id, reason=str(reason), on=on)

    def payout_batch(self, *, actor: Principal, on: date) -> tuple[PayoutBatch, str]:
        """Every citizen owed at least the minimum, as a batch and its CSV (audited)."""
        actor.require(Permission.CITIZEN_PAYOUTS)
        with self._lock:
            ledger = self.ledger()
            before = len(ledger.entries)
            batch = ledger.payout_batch(on=on, minimum_tenge=self.rules.minimum_payout_on(on))
            self._append(ledger, before)
        self._audit.append(
            AuditRecord(actor=actor.username, roles=actor.roles, action="payout",
                        resource_type="citizen_rewards", resource_id=batch.reference,
                        details={"lines": len(batch.lines), "total": batch.total_tenge}),
        )  # fmt: skip
        return batch, export_batch_csv(batch)

    def settle(
        self, *, actor: Principal, batch_ref: str, paid: list[str], failed: list[str], on: date
    ) -> Settlement:
        """The payment provider's answer for a batch's lines (audited)."""
        actor.require(Permission.CITIZEN_PAYOUTS)
        with self._lock:
            ledger = self.ledger()
            before = len(ledger.entries)
            settled = ledger.settle(batch_ref=batch_ref, paid=paid, failed=failed, on=on)
            self._append(ledger, before)
        self._audit.append(
            AuditRecord(actor=actor.username, roles=actor.roles, action="settle",
                        resource_type="citizen_rewards", resource_id=batch_ref,
                        details={"paid": len(paid), "failed": len(failed)}),
        )  # fmt: skip
        self._pending_reversals(on)
        return settled

    def reconcile(self, *, actor: Principal) -> ReconcileReport:
        actor.require(Permission.CITIZEN_PAYOUTS)
        return self.ledger().reconcile()


def entry_to(entry: Entry) -> dict[str, object]:
    """An entry as stored (JSON)."""
    plain = asdict(entry)
    plain["kind"] = entry.kind.value
    plain["on"] = entry.on.isoformat()
    return plain


def entry_from(stored: dict[str, object]) -> Entry:
    """An entry as it was stored."""
    plain: dict[str, Any] = dict(stored)
    return Entry(
        seq=int(plain["seq"]), kind=EntryKind(plain["kind"]),
        on=date.fromisoformat(plain["on"]), amount_tenge=int(plain["amount_tenge"]),
        postings=tuple(Posting(account=p["account"], tenge=int(p["tenge"]))
                       for p in plain["postings"]),
        report_id=plain.get("report_id"), citizen=plain.get("citizen"),
        batch_ref=plain.get("batch_ref"),
        lines=tuple(
            PayoutLine(reference=x["reference"], citizen=x["citizen"],
                       amount_tenge=int(x["amount_tenge"]), report_ids=tuple(x["report_ids"]))
            for x in plain.get("lines") or ()
        ),
        paid=tuple(plain.get("paid") or ()), failed=tuple(plain.get("failed") or ()),
        reason=str(plain.get("reason") or ""),
    )  # fmt: skip
