"""What a bank's past transfers say about the one it is asked to execute: features for the
learned model and explainable reasons for a hold.

:class:`TransferHistory` is fed every transfer as it happens (:meth:`TransferHistory.record`,
after the decision) and answers, for a new one, how the payer usually pays and who else has been
paying the payee — only counts and amounts, never the outcome labels, so nothing of the answer
leaks into the features.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from kupol.antifraud.transfers import LEAVING, Transfer, TransferKind


@dataclass(frozen=True, kw_only=True)
class SignalSettings:
    """Thresholds of the explainable reasons."""

    empties_share: float = 0.99
    """A transfer of at least this share of a positive balance (and not more than it) empties
    it. More than the balance is a feature, not a reason: PaySim's legitimate transfers often
    exceed the balance it records (437 of the evaluation's test side, none of them fraud)."""
    fan_in_window: timedelta = timedelta(hours=24)
    fan_in_payers: int = 5
    """A payee (not a merchant) paid by this many distinct payers within the window."""
    unusual_factor: float = 10.0
    """An amount this many times the payer's mean earlier amount (after 3 earlier ones)."""
    new_payee_amount: float = 1_000_000.0
    """A first transfer to a payee of at least this amount."""


REASONS = {
    "empties_balance": "takes (nearly) the whole balance out of the payer's account",
    "known_mule": "goes to an account on the mule list",
    "suspected_mule": "goes to an account suspected of passing on stolen money",
    "suspicious_call": "the payer was called shortly before from a number screened as suspicious",
    "fan_in_payee": "goes to an account many different people paid within a day",
    "unusual_amount": "is many times the payer's usual amount",
    "new_payee_large": "is a large first transfer to this payee",
}
"""Reason codes and what they say, in the words the bank receives."""

FEATURES = (
    "kind",
    "amount",
    "log_amount",
    "payer_balance",
    "share_of_balance",
    "empties_balance",
    "exceeds_balance",
    "payee_balance",
    "payee_is_merchant",
    "payee_payers_window",
    "payee_incoming_before",
    "payer_outgoing_before",
    "amount_vs_payer_mean",
    "new_payee",
    "hour",
)
"""The model's inputs, in order (everything known before the transfer executes)."""

_KIND_CODE = {kind: i for i, kind in enumerate(TransferKind)}


@dataclass
class _Payee:
    incoming: int = 0
    recent: deque[tuple[datetime, str]] = field(default_factory=deque)


@dataclass
class _Payer:
    outgoing: int = 0
    total: float = 0.0
    payees: set[str] = field(default_factory=set)


class TransferHistory:
    """Running per-account state, fed transfers in time order."""

    def __init__(self, settings: SignalSettings | None = None, mules: frozenset[str] = frozenset()):
        self.settings = settings or SignalSettings()
        self.mules = mules
        self._payees: dict[str, _Payee] = defaultdict(_Payee)
        self._payers: dict[str, _Payer] = defaultdict(_Payer)

    def _distinct_payers(self, transfer: Transfer) -> int:
        payee = self._payees.get(transfer.payee)
        if payee is None:
            return 0
        since = transfer.at - self.settings.fan_in_window
        return len({who for at, who in payee.recent if at >= since and who != transfer.payer})

    def features(self, transfer: Transfer) -> list[float]:
        """The model's inputs (:data:`FEATURES`) for ``transfer``, from what came before it."""
        payer = self._payers.get(transfer.payer) or _Payer()
        payee = self._payees.get(transfer.payee) or _Payee()
        balance = transfer.payer_balance
        share = transfer.amount / balance if balance > 0 else 10.0
        mean = payer.total / payer.outgoing if payer.outgoing else 0.0
        return [
            float(_KIND_CODE[transfer.kind]),
            transfer.amount,
            float(np.log1p(transfer.amount)),
            balance,
            min(share, 10.0),
            float(self._empties(transfer)),
            float(transfer.amount > balance + 0.01),
            transfer.payee_balance,
            float(transfer.payee_is_merchant),
            float(self._distinct_payers(transfer)),
            float(payee.incoming),
            float(payer.outgoing),
            transfer.amount / mean if mean > 0 else 1.0,
            float(transfer.payee not in payer.payees),
            float(transfer.at.hour),
        ]

    def _empties(self, transfer: Transfer) -> bool:
        balance = transfer.payer_balance
        amount = transfer.amount
        return balance > 0 and self.settings.empties_share * balance <= amount <= balance + 0.01

    def reasons(self, transfer: Transfer) -> list[str]:
        """Explainable reasons (codes of :data:`REASONS`) to hold ``transfer``."""
        s = self.settings
        found: list[str] = []
        leaving = transfer.kind in LEAVING
        if leaving and self._empties(transfer):
            found.append("empties_balance")
        if transfer.payee in self.mules:
            found.append("known_mule")
        others = self._distinct_payers(transfer)  # this payer makes one more
        if not transfer.payee_is_merchant and others + 1 >= s.fan_in_payers:
            found.append("fan_in_payee")
        payer = self._payers.get(transfer.payer)
        if payer and payer.outgoing >= 3:
            mean = payer.total / payer.outgoing
            if mean > 0 and transfer.amount >= s.unusual_factor * mean:
                found.append("unusual_amount")
        new_payee = payer is None or transfer.payee not in payer.payees
        if leaving and new_payee and transfer.amount >= s.new_payee_amount:
            found.append("new_payee_large")
        return found

    def record(self, transfer: Transfer) -> None:
        """Take ``transfer`` into the history (after it was decided on)."""
        payee = self._payees[transfer.payee]
        payee.incoming += 1
        payee.recent.append((transfer.at, transfer.payer))
        since = transfer.at - self.settings.fan_in_window
        while payee.recent and payee.recent[0][0] < since:
            payee.recent.popleft()
        payer = self._payers[transfer.payer]
        payer.outgoing += 1
        payer.total += transfer.amount
        payer.payees.add(transfer.payee)
