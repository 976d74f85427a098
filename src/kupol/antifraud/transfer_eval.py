"""``kupol eval transfers``: the transfer-hold model on a PaySim file, on a time-based split.

Every transfer passes through one :class:`~kupol.antifraud.transfer_signals.TransferHistory`
in time order (features are computed *before* the transfer is recorded, as the live service
would); a gradient-boosting model is trained on the transfers of steps ≤ ``split_step`` and
judged on the later ones. Beside it: the explainable reasons alone, and the plain baseline the
issue names — the same learner on PaySim's raw columns, balances *after* the transfer included
(which a bank asking before executing does not have).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kupol.antifraud.transfer_signals import FEATURES, TransferHistory
from kupol.antifraud.transfers import Transfer, TransferKind, read_paysim
from kupol.core.errors import InvalidInputError

Matrix = npt.NDArray[np.float64]


def raw_columns(transfer: Transfer) -> list[float]:
    """The baseline's inputs: PaySim's columns as given (names and step left out)."""
    return [
        float(list(TransferKind).index(transfer.kind)),
        transfer.amount,
        transfer.payer_balance,
        transfer.after[0],
        transfer.payee_balance,
        transfer.after[1],
    ]


def _figures(
    truth: npt.NDArray[np.bool_], score: Matrix, amounts: Matrix, cut: float
) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    held = score >= cut
    true_held = held & truth
    fraud_amount = float(amounts[truth].sum())
    return {
        "precision": round(float(true_held.sum() / max(1, held.sum())), 4),
        "recall": round(float(true_held.sum() / max(1, truth.sum())), 4),
        "roc_auc": round(float(roc_auc_score(truth, score)), 5)
        if 0 < truth.sum() < len(truth)
        else None,
        "amount_protected_share": round(float(amounts[true_held].sum()) / fraud_amount, 4)
        if fraud_amount
        else None,
        "held": int(held.sum()),
        "false_holds": int((held & ~truth).sum()),
    }


def evaluate_transfers(
    path: Path, *, split_step: int = 84, threshold: float = 0.5
) -> dict[str, Any]:
    """Train on steps ≤ ``split_step``, judge on the rest; the figures as a dict.

    Raises:
        InvalidInputError: The file is no PaySim file, has no labels, or a side of the split
            has no fraud or no legitimate transfer to learn from.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    read = read_paysim(path)
    transfers = sorted(
        (t for t in read.transfers if t.label is not None), key=lambda t: t.at
    )  # stable: file order within an hour
    if not transfers:
        raise InvalidInputError(f"{path}: no labelled transfers (isFraud) to evaluate on")
    history = TransferHistory()
    features: list[list[float]] = []
    reasons: list[list[str]] = []
    started = time.perf_counter()
    for transfer in transfers:
        features.append(history.features(transfer))
        reasons.append(history.reasons(transfer))
        history.record(transfer)
    signal_ms = 1000 * (time.perf_counter() - started) / len(transfers)
    x = np.array(features, dtype=np.float64)
    raw = np.array([raw_columns(t) for t in transfers], dtype=np.float64)
    truth = np.array([bool(t.label) for t in transfers])
    amounts = np.array([t.amount for t in transfers], dtype=np.float64)
    hours = np.array([(t.at - transfers[0].at).total_seconds() / 3600 for t in transfers])
    steps = np.array([_step(t) for t in transfers])
    train, test = steps <= split_step, steps > split_step
    for name, side in (("training", train), ("test", test)):
        if not side.any() or truth[side].all() or not truth[side].any():
            raise InvalidInputError(
                f"{path}: the {name} side of the split at step {split_step} needs both fraud "
                "and legitimate transfers"
            )
    model = HistGradientBoostingClassifier(random_state=0).fit(x[train], truth[train])
    started = time.perf_counter()
    score = model.predict_proba(x[test])[:, 1]
    model_ms = 1000 * (time.perf_counter() - started) / int(test.sum())
    baseline = HistGradientBoostingClassifier(random_state=0).fit(raw[train], truth[train])
    rule_score = np.array([1.0 if r else 0.0 for r in reasons])[test]
    held_reasons = Counter(
        code
        for r, s in zip((r for r, t in zip(reasons, test, strict=True) if t), score, strict=True)
        if s >= threshold
        for code in r
    )
    return {
        "file": path.name,
        "n": len(transfers),
        "rejected_rows": len(read.rejects),
        "split_step": split_step,
        "train": {"n": int(train.sum()), "fraud": int(truth[train].sum())},
        "test": {"n": int(test.sum()), "fraud": int(truth[test].sum())},
        "threshold": threshold,
        **_figures(truth[test], score, amounts[test], threshold),
        "features": list(FEATURES),
        "held_with_reason": _share_with_reason(reasons, test, score, threshold),
        "reasons_of_held": dict(held_reasons.most_common()),
        "rules_only": _figures(truth[test], rule_score, amounts[test], 0.5),
        "per_reason": _per_reason(reasons, truth, test),
        "baseline_raw_columns": _figures(
            truth[test], baseline.predict_proba(raw[test])[:, 1], amounts[test], threshold
        ),
        "ms_per_decision": round(signal_ms + model_ms, 4),
        "hours_covered": round(float(hours.max()), 1),
    }


def _share_with_reason(
    reasons: list[list[str]], test: npt.NDArray[np.bool_], score: Matrix, threshold: float
) -> float | None:
    test_reasons = [r for r, t in zip(reasons, test, strict=True) if t]
    held = [r for r, s in zip(test_reasons, score, strict=True) if s >= threshold]
    return round(sum(1 for r in held if r) / len(held), 4) if held else None


def _per_reason(
    reasons: list[list[str]], truth: npt.NDArray[np.bool_], test: npt.NDArray[np.bool_]
) -> dict[str, dict[str, int]]:
    """On the test side: how often each reason fired, and on how many frauds."""
    fired: Counter[str] = Counter()
    on_fraud: Counter[str] = Counter()
    for r, is_fraud, in_test in zip(reasons, truth, test, strict=True):
        if in_test:
            fired.update(r)
            if is_fraud:
                on_fraud.update(r)
    return {code: {"fired": fired[code], "on_fraud": on_fraud[code]} for code in sorted(fired)}


def _step(transfer: Transfer) -> int:
    from kupol.antifraud.transfers import PAYSIM_EPOCH

    return int((transfer.at - PAYSIM_EPOCH).total_seconds() // 3600)
