"""Transfers as a bank describes them before executing one, and reading them from CSV.

The CSV reader takes the PaySim layout (``step,type,amount,nameOrig,oldbalanceOrg,
newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,isFraud``): the public simulated
mobile-money data the evaluation uses. Each row is checked on its own; a bad row becomes a
reject with its line and reason and never stops the good ones.

Only what a bank knows *before* it executes a transfer is kept for deciding: kind, amount,
the payer's balance, the payee and the payee's balance. PaySim's balances *after* the transfer
(``newbalance…``) are kept apart (:attr:`Transfer.after`) for the raw-column baseline only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from kupol.antifraud.csvfile import open_csv
from kupol.core.errors import InvalidInputError

MAX_ROWS = 5_000_000
PAYSIM_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""PaySim counts hours from the start of its month (``step`` 1 is the first hour)."""


class TransferKind(StrEnum):
    """What the money does: PaySim's five kinds."""

    PAYMENT = "PAYMENT"  # to a merchant
    TRANSFER = "TRANSFER"  # to another customer
    CASH_OUT = "CASH_OUT"  # taken out as cash through an agent
    CASH_IN = "CASH_IN"  # paid in through an agent
    DEBIT = "DEBIT"  # to a bank account


LEAVING = frozenset({TransferKind.TRANSFER, TransferKind.CASH_OUT})
"""Kinds by which a fraudster takes a victim's money away."""


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """One transfer the bank asks about, before executing it."""

    ref: str
    at: datetime
    kind: TransferKind
    amount: float
    payer: str
    payer_balance: float
    payee: str
    payee_balance: float
    label: bool | None = None
    """Known outcome (fraud or not), where the data have one; never used for deciding."""
    after: tuple[float, float] = (math.nan, math.nan)
    """PaySim's balances of payer and payee after the transfer (the baseline's columns)."""

    @property
    def payee_is_merchant(self) -> bool:
        """PaySim names merchants ``M…`` and customers ``C…``."""
        return self.payee.startswith("M")


@dataclass
class ReadResult:
    """Rows read and rows refused, each refusal with its line and reason."""

    transfers: list[Transfer] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)


PAYSIM_COLUMNS = (
    "step",
    "type",
    "amount",
    "nameOrig",
    "oldbalanceOrg",
    "newbalanceOrig",
    "nameDest",
    "oldbalanceDest",
    "newbalanceDest",
)


def read_paysim(path: Path) -> ReadResult:
    """Read a PaySim CSV; rows in file order, each checked on its own.

    Raises:
        InvalidInputError: The file is missing, unreadable, or lacks a needed column.
    """
    reader = open_csv(path, PAYSIM_COLUMNS, kind="PaySim")
    result = ReadResult()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise InvalidInputError(f"{path}: more than {MAX_ROWS:,} rows; split the file")
        try:
            result.transfers.append(_paysim_row(row, number))
        except ValueError as exc:
            result.rejects.append((number, str(exc)))
    return result


def _paysim_row(row: dict[str, str], line: int) -> Transfer:
    step = _number(row, "step")
    if step < 0 or step != int(step):
        raise ValueError(f"step {row['step']!r} is not a whole number of hours ≥ 0")
    kind_text = (row.get("type") or "").strip().upper()
    try:
        kind = TransferKind(kind_text)
    except ValueError as exc:
        known = ", ".join(k.value for k in TransferKind)
        raise ValueError(f"type {row.get('type')!r} is none of {known}") from exc
    amount = _number(row, "amount")
    if amount < 0:
        raise ValueError(f"amount {row['amount']!r} is negative")
    payer = (row.get("nameOrig") or "").strip()
    payee = (row.get("nameDest") or "").strip()
    if not payer or not payee:
        raise ValueError("nameOrig and nameDest must name the accounts")
    label_text = (row.get("isFraud") or "").strip()
    label: bool | None = None
    if label_text:
        if label_text not in {"0", "1", "0.0", "1.0"}:
            raise ValueError(f"isFraud {label_text!r} is not 0 or 1")
        label = float(label_text) == 1.0
    return Transfer(
        ref=f"line-{line}",
        at=PAYSIM_EPOCH + timedelta(hours=int(step)),
        kind=kind,
        amount=amount,
        payer=payer,
        payer_balance=_number(row, "oldbalanceOrg"),
        payee=payee,
        payee_balance=_number(row, "oldbalanceDest"),
        label=label,
        after=(_number(row, "newbalanceOrig"), _number(row, "newbalanceDest")),
    )


def _number(row: dict[str, str], column: str) -> float:
    text = (row.get(column) or "").strip()
    try:
        value = float(text)
    except ValueError as exc:
        raise ValueError(f"{column} {text!r} is not a number") from exc
    if not math.isfinite(value):
        raise ValueError(f"{column} {text!r} is not a finite number")
    return value
