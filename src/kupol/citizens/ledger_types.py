"""The rewards ledger's values: accounts, postings, entries, payout batches, the reconcile
report (:mod:`kupol.citizens.ledger` records and replays them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

EXPENSE = "reward_expense"
CLEARING = "payouts_clearing"
BANK = "bank"
CSV_COLUMNS = (
    "line_reference",
    "batch_reference",
    "citizen_id",
    "amount_tenge",
    "currency",
    "value_date",
)
"""Columns of :func:`export_batch_csv`, in order."""

ID_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}")


def payable(citizen: str) -> str:
    """The account of what kupol owes ``citizen``."""
    return f"rewards_payable:{citizen}"


def receivable(citizen: str) -> str:
    """The account of what ``citizen`` owes back (rewards reversed after payment)."""
    return f"rewards_receivable:{citizen}"


class EntryKind(StrEnum):
    ACCRUAL = "accrual"
    REVERSAL = "reversal"
    PAYOUT = "payout"
    SETTLEMENT = "settlement"


class ReportStatus(StrEnum):
    ACCRUED = "accrued"
    IN_BATCH = "in_batch"
    PAID = "paid"
    REVERSED = "reversed"


@dataclass(frozen=True, kw_only=True)
class Posting:
    """One side of a transaction: positive debits ``account``, negative credits it."""

    account: str
    tenge: int


@dataclass(frozen=True, kw_only=True)
class PayoutLine:
    """One transfer: a citizen's whole payable balance and the reports behind it."""

    reference: str
    citizen: str
    amount_tenge: int
    report_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PayoutBatch:
    """Transfers sent to the payment provider together; ``total_tenge`` is their sum."""

    reference: str
    on: date
    lines: tuple[PayoutLine, ...]
    total_tenge: int


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One balanced transaction and what it records (the fields its kind uses).

    ``amount_tenge`` is the reward (accrual, reversal), the batch total (payout) or the sum
    of the lines answered (settlement); ``paid`` and ``failed`` are line references.
    """

    seq: int
    kind: EntryKind
    on: date
    amount_tenge: int
    postings: tuple[Posting, ...]
    report_id: str | None = None
    citizen: str | None = None
    batch_ref: str | None = None
    lines: tuple[PayoutLine, ...] = ()
    paid: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Settlement:
    """What one answer from the payment provider changed, and the lines still unanswered."""

    batch_ref: str
    paid_tenge: int
    failed_tenge: int
    outstanding: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ReconcileReport:
    """The ledger's totals and every broken invariant (none: ``ok``)."""

    problems: tuple[str, ...]
    accrued_tenge: int
    paid_tenge: int
    reversed_before_payout_tenge: int
    reversed_after_payout_tenge: int
    payable_tenge: int
    clearing_tenge: int
    receivable_tenge: int

    @property
    def ok(self) -> bool:
        """Whether every invariant holds."""
        return not self.problems


@dataclass(kw_only=True)
class ReportState:
    citizen: str
    amount: int
    on: date
    status: ReportStatus = ReportStatus.ACCRUED
