"""Call screening's learned model trained on labelled call records — simulated days
(``make screen-model``) or a deployment's own CDRs (``kupol antifraud train-screen-model``).

Every record needs its ``truth``: ``legit``, or the kind of fraud it was (any other label but
the usual words for "not fraud", which are refused so that a file labelled ``normal`` is not
learned as all fraud; the model learns fraud or not, the kinds are counted in its card). The
records are screened by the rules in time order, as the service would have screened them, and
the model learns from the rules' window counts (:data:`kupol.antifraud.screening.SIGNALS`).
Before the model that is written is fitted on every record, one is fitted on the earlier
records and judged on the last ``holdout`` of them by time, so the card says how the model
fares on calls after those it learned from — the way it will be used.
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
from kupol.antifraud.screening import SIGNALS, CallScreen, Verdict
from kupol.antifraud.screening_eval import screen_rows
from kupol.antifraud.trees import CompiledTrees
from kupol.core.errors import InvalidInputError

LEGIT = "legit"
NOT_FRAUD_WORDS = frozenset(
    {"legitimate", "normal", "ok", "good", "clean", "genuine", "benign", "none", "no",
     "false", "0", "not_fraud", "non_fraud", "nonfraud", "notfraud", "negative"}
)  # fmt: skip
"""Labels that say "not fraud" in other words: refused (write ``legit``)."""
MIN_CALLS_PER_CLASS = 50
LEARNER = "sklearn.ensemble.HistGradientBoostingClassifier(random_state=0)"
_HAS_IMSI = SIGNALS.index("has_imsi")
_INTERNATIONAL = SIGNALS.index("international")


@dataclass(frozen=True)
class Labelled:
    """Calls screened by the rules, in time order: their signals, truth and what the rules
    decided (not the calls themselves: a country's day is millions of them)."""

    name: str
    signals: np.ndarray
    fraud: np.ndarray
    blocked: np.ndarray
    """The rules blocked the call."""
    warned: np.ndarray
    """The rules warned about it."""
    labels: Counter[str]

    @property
    def scored(self) -> np.ndarray:
        """Calls the model scores when deployed: allowed by the rules, and carrying an IMSI or
        international (:meth:`kupol.antifraud.screen_model.ScreenModel.apply`)."""
        allowed: np.ndarray = ~(self.blocked | self.warned)
        carried: np.ndarray = (self.signals[:, _HAS_IMSI] != 0) | (
            self.signals[:, _INTERNATIONAL] != 0
        )
        both: np.ndarray = np.logical_and(allowed, carried)
        return both


def screen_labelled(
    rows: Sequence[CdrRow], *, name: str, ported: Mapping[str, str] | None = None
) -> Labelled:
    """Screen labelled rows with the rules alone, in time order.

    Raises:
        InvalidInputError: a row has no truth, or a label that says "not fraud" otherwise
            than ``legit``.
    """
    missing = [r.line for r in rows if not r.truth]
    if missing:
        raise InvalidInputError(
            f"{name}: {len(missing)} calls have no truth (the first on line {missing[0]}); "
            f"every call needs one: {LEGIT}, or the kind of fraud it was"
        )
    labels = Counter((r.truth or "").strip().lower() for r in rows)
    unclear = sorted(NOT_FRAUD_WORDS.intersection(labels))
    if unclear:
        raise InvalidInputError(
            f"{name}: truth {', '.join(repr(u) for u in unclear)} reads as 'not fraud': write "
            f"{LEGIT!r} for calls that were not fraud, and the kind of fraud for the others"
        )
    ordered = sorted(rows, key=lambda r: r.attempt.at)
    screen = CallScreen()
    screen.ported = dict(ported or {})
    verdicts = screen_rows(list(ordered), screen)
    return Labelled(
        name=name,
        signals=np.array([v.signals for v in verdicts], dtype=np.float64).reshape(-1, len(SIGNALS)),
        fraud=np.array([(r.truth or "").strip().lower() != LEGIT for r in ordered], dtype=bool),
        blocked=np.array([v.verdict is Verdict.BLOCK for v in verdicts], dtype=bool),
        warned=np.array([v.verdict is Verdict.WARN for v in verdicts], dtype=bool),
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


def _share(mask: np.ndarray, among: np.ndarray) -> float | None:
    return round(float(mask[among].mean()), 6) if among.any() else None


def held_out_figures(days: Sequence[Labelled], holdout: float) -> dict[str, Any]:
    """Fit on the first ``1 - holdout`` of each stream's calls; judge screening with that
    model (rules and model, as deployed, the model's trees run as the service runs them) on
    the rest."""
    from sklearn.metrics import roc_auc_score

    cuts = [int(len(d.fraud) * (1 - holdout)) for d in days]
    pairs = list(zip(days, cuts, strict=True))
    train_y = np.concatenate([d.fraud[:c] for d, c in pairs])
    test_y = np.concatenate([d.fraud[c:] for d, c in pairs])
    _check_classes("the earlier part of the calls (training)", train_y)
    _check_classes(f"the last {holdout:.0%} of the calls (held out)", test_y)
    estimator = fit(np.vstack([d.signals[:c] for d, c in pairs]), train_y)
    model = ScreenModel(estimator=estimator, card={}, compiled=CompiledTrees.of(estimator))
    test_x = np.vstack([d.signals[c:] for d, c in pairs])
    scored = np.concatenate([d.scored[c:] for d, c in pairs])
    blocked = np.concatenate([d.blocked[c:] for d, c in pairs])
    warned = np.concatenate([d.warned[c:] for d, c in pairs])
    scores = np.zeros(len(test_y))
    if scored.any():
        scores[scored] = model.scores(test_x[scored].tolist())
    by_model = scored & (scores >= THRESHOLD)
    flagged = blocked | warned | by_model
    legit = ~test_y
    scored_y = test_y[scored]
    return {
        "calls": len(test_y),
        "fraud_calls": int(test_y.sum()),
        "scored_calls": int(scored.sum()),
        "roc_auc_scored": (
            round(float(roc_auc_score(scored_y, scores[scored])), 4)
            if 0 < scored_y.sum() < len(scored_y)
            else None
        ),
        "fraud_caught": _share(flagged, test_y),
        "fraud_caught_by_model_alone": _share(by_model, test_y),
        "legit_blocked": _share(blocked, legit),
        "legit_warned_by_model": _share(by_model, legit),
    }


def train_screen_model(
    days: Sequence[Labelled], *, holdout: float = 0.2, sources: Sequence[Mapping[str, Any]] = ()
) -> tuple[Any, dict[str, Any]]:
    """The model fitted on every call of ``days`` (each a stream screened on its own) and its
    card (with held-out figures when ``holdout`` > 0).

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
