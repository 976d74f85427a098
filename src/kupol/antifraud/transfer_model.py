"""The learned transfer model: scikit-learn's gradient boosting on the features of
:mod:`kupol.antifraud.transfer_signals`, trained by ``make transfer-model`` and shipped as a
joblib file with its card.

The card records the scikit-learn version and the feature list the file was made with; a
file made by another version or for other features is not loaded (a pickle from another
scikit-learn may load and score wrongly), and the service then decides on the reasons alone
and says so in every decision.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kupol.antifraud.modelfile import load_checked
from kupol.antifraud.transfer_signals import FEATURES, TransferHistory
from kupol.antifraud.transfers import PAYSIM_EPOCH, Transfer
from kupol.core.errors import ConfigError

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).with_name("models")
MODEL_PATH = MODEL_DIR / "transfer-hgb.joblib"


@dataclass(frozen=True)
class TransferModel:
    """A loaded model: probabilities of fraud for rows of :data:`FEATURES`."""

    estimator: Any
    card: dict[str, Any]

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """The model's fraud probability for each row."""
        if not rows:
            return []
        x = np.asarray(rows, dtype=np.float64)
        return [float(p) for p in self.estimator.predict_proba(x)[:, 1]]


def load_model(path: Path = MODEL_PATH) -> TransferModel:
    """Load the model and check its card against this installation.

    Raises:
        ConfigError: The file or its card is missing, or was made by another scikit-learn or
            for other features, or changed since (``make transfer-model`` remakes it).
    """
    estimator, card = load_checked(path, features=list(FEATURES))
    return TransferModel(estimator=estimator, card=card)


def try_load_model(path: Path = MODEL_PATH) -> TransferModel | None:
    """The model, or ``None`` (with a warning) where it cannot be used."""
    try:
        return load_model(path)
    except ConfigError as exc:
        log.warning("transfer holds decide on reasons alone: %s", exc)
        return None


def configured_model(configured: Path | None) -> TransferModel | None:
    """The model a deployment uses: the one its settings name (``[antifraud] model``), which
    must load, or else the shipped one, if it can be used.

    Raises:
        ConfigError: ``configured`` cannot be used (see :func:`load_model`).
    """
    return load_model(configured) if configured else try_load_model(MODEL_PATH)


def training_rows(
    transfers: Sequence[Transfer], *, until_step: int
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the labelled transfers of steps ≤ ``until_step``, each computed
    from the history before it (all transfers feed the history, in time order)."""
    history = TransferHistory()
    rows: list[list[float]] = []
    labels: list[bool] = []
    for transfer in sorted(transfers, key=lambda t: t.at):
        step = int((transfer.at - PAYSIM_EPOCH).total_seconds() // 3600)
        if transfer.label is not None and step <= until_step:
            rows.append(history.features(transfer))
            labels.append(transfer.label)
        history.record(transfer)
    return np.asarray(rows, dtype=np.float64), np.asarray(labels, dtype=bool)
