"""Call screening's learned model trained on labelled call records — simulated days
(``make screen-model``) or a deployment's own CDRs (``kupol antifraud train-screen-model``).

Every record needs its ``truth``: ``legit``, or the kind of fraud it was (any other label; the
model learns fraud or not, the kinds are counted in its card). Each file is screened by the
rules in time order, as a day of the network would be, and the model learns from the rules'
window counts (:data:`kupol.antifraud.screening.SIGNALS`). Before the model that is written is
fitted on every record, one is fitted on the first part of each file and judged on the rest
(the last ``holdout`` of its calls by time), so the card says how the model fares on calls
after those it learned from — the way it will be used.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kupol.antifraud.cdr import CdrRow
from kupol.antifraud.screen_model import THRESHOLD, ScreenModel
from kupol.antifraud.screening import SIGNALS, CallScreen, Screened, Verdict
from kupol.antifraud.screening_eval import screen_rows
from kupol.core.errors import InvalidInputError

LEGIT = "legit"
MIN_CALLS_PER_CLASS = 50
LEARNER = "sklearn.ensemble.HistGradientBoostingClassifier(random_state=0)"


@dataclass(frozen=True)
class Labelled:
    """One file's (or day's) calls screened by the rules: their signals and truth."""

    name: str
    signals: np.ndarray
    fraud: np.ndarray
    verdicts: list[Screened]
    labels: Counter[str]


def screen_labelled(
    rows: Sequence[CdrRow], *, name: str, ported: Mapping[str, str] | None = None
) -> Labelled:
    """Screen time-ordered labelled rows with the rules alone.

    Raises:
        InvalidInputError: a row has no truth.
    """
    missing = [r.line for r in rows if not r.truth]
    if missing:
        raise InvalidInputError(
            f"{name}: {len(missing)} calls have no truth (the first on line {missing[0]}); "
            f"every call needs one: {LEGIT}, or the kind of fraud it was"
        )
    screen = CallScreen()
    screen.ported = dict(ported or {})
    verdicts = screen_rows(list(rows), screen)
    labels = Counter((r.truth or "").strip().lower() for r in rows)
    return Labelled(
        name=name,
        signals=np.array([v.signals for v in verdicts], dtype=np.float64).reshape(-1, len(SIGNALS)),
        fraud=np.array([(r.truth or "").strip().lower() != LEGIT for r in rows], dtype=bool),
        verdicts=verdicts,
        labels=labels,
    )


def fit(signals: np.ndarray, fraud: np.ndarray) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=0).fit(signals, fraud)


def _check_classes(what: str, fraud: np.ndarray) -> None:
    frauds, legits = int(fraud.sum()), int((~fraud).sum())
    if min(frauds, legits) < MIN_CALLS_PER_CLASS:
        raise InvalidInputError(
            f"{what}: {frauds} fraud and {legits} legitimate calls; the model needs at least "
            f"{MIN_CALLS_PER_CLASS} of each to learn from"
        )


def held_out_figures(days: Sequence[Labelled], holdout: float) -> dict[str, Any]:
    """Fit on the first ``1 - holdout`` of each day's calls; judge screening with that model
    (rules and model, as deployed) on the rest."""
    from sklearn.metrics import roc_auc_score

    cuts = [int(len(d.fraud) * (1 - holdout)) for d in days]
    train_x = np.vstack([d.signals[:c] for d, c in zip(days, cuts, strict=True)])
    train_y = np.concatenate([d.fraud[:c] for d, c in zip(days, cuts, strict=True)])
    test_y = np.concatenate([d.fraud[c:] for d, c in zip(days, cuts, strict=True)])
    _check_classes("the earlier part of the calls (training)", train_y)
    _check_classes(f"the last {holdout:.0%} of the calls (held out)", test_y)
    model = ScreenModel(estimator=fit(train_x, train_y), card={}, threshold=THRESHOLD)
    verdicts = [v for d, c in zip(days, cuts, strict=True) for v in model.apply(d.verdicts[c:])]
    test_x = np.array([v.signals for v in verdicts], dtype=np.float64)
    scores = np.array(model.scores(test_x.tolist()))
    flagged = np.array([v.verdict is not Verdict.ALLOW for v in verdicts])
    by_model = np.array([v.verdict is Verdict.WARN and "model" in v.reasons for v in verdicts])
    legit = ~test_y
    return {
        "calls": len(test_y),
        "fraud_calls": int(test_y.sum()),
        "roc_auc": round(float(roc_auc_score(test_y, scores)), 4),
        "fraud_caught": round(float(flagged[test_y].mean()), 4),
        "fraud_caught_by_model_alone": round(float(by_model[test_y].mean()), 4),
        "legit_blocked": round(
            float(np.array([v.verdict is Verdict.BLOCK for v in verdicts])[legit].mean()), 6
        ),
        "legit_warned_by_model": round(float(by_model[legit].mean()), 6),
    }


def train_screen_model(
    days: Sequence[Labelled], *, holdout: float = 0.2, sources: Sequence[Mapping[str, Any]] = ()
) -> tuple[Any, dict[str, Any]]:
    """The model fitted on every call of ``days`` and its card (with held-out figures when
    ``holdout`` > 0).

    Raises:
        InvalidInputError: too few fraud or legitimate calls, overall or on either side of
            the held-out cut.
    """
    if not 0 <= holdout < 1:
        raise InvalidInputError(f"holdout {holdout} must be at least 0 and below 1")
    x = np.vstack([d.signals for d in days])
    y = np.concatenate([d.fraud for d in days])
    _check_classes("the calls", y)
    labels: Counter[str] = Counter()
    for d in days:
        labels.update(d.labels)
    card: dict[str, Any] = {
        "learner": LEARNER,
        "features": list(SIGNALS),
        "data": list(sources) or [d.name for d in days],
        "calls": len(y),
        "fraud_calls": int(y.sum()),
        "labels": dict(sorted(labels.items())),
    }
    if holdout > 0:
        card["held_out"] = {"share": holdout, **held_out_figures(days, holdout)}
    return fit(x, y), card


def file_source(path: Path, rows: int, rejected: int) -> dict[str, Any]:
    """What the card says of a training file: its name, SHA-256 and rows used and refused."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"file": path.name, "sha256": digest.hexdigest(), "rows": rows, "rejected": rejected}
