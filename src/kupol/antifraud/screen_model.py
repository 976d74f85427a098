"""Call screening's learned model: gradient boosting on the windows the rules count
(:data:`kupol.antifraud.screening.SIGNALS`), trained by ``make screen-model`` on simulated days.

It never blocks — blocking stays with the explainable rules. A call the rules allowed whose
score reaches the threshold is **warned**, with the reason ``model`` beside the score, so the
callee is told and an analyst can look; every decision still lists every rule that fired.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kupol.antifraud.modelfile import load_checked
from kupol.antifraud.screening import SIGNALS, Screened, Verdict
from kupol.antifraud.trees import CompiledTrees
from kupol.core.errors import ConfigError

log = logging.getLogger(__name__)
MODEL_PATH = Path(__file__).with_name("models") / "screen-hgb.joblib"
THRESHOLD = 0.5
_HAS_IMSI = SIGNALS.index("has_imsi")
_INTERNATIONAL = SIGNALS.index("international")


@dataclass(frozen=True)
class ScreenModel:
    estimator: Any
    card: dict[str, Any]
    threshold: float = THRESHOLD
    # The same trees run by onnxruntime (kupol.antifraud.trees), when they could be compiled.
    compiled: CompiledTrees | None = None

    def scores(self, signals: Sequence[Sequence[float]]) -> list[float]:
        if not signals:
            return []
        rows = np.asarray(signals, dtype=np.float64)
        if self.compiled is not None:
            return self.compiled.probability(rows).tolist()  # type: ignore[no-any-return]
        return [float(p) for p in self.estimator.predict_proba(rows)[:, 1]]

    def apply(self, verdicts: Sequence[Screened]) -> list[Screened]:
        """The verdicts with allowed calls the model finds fraud-like warned (``model``).

        Only calls like those it learned from are scored: domestic calls that carry the SIM's
        IMSI, and international ones. A domestic call without an IMSI (a SIP trunk that does
        not pass it) is left to the rules: every domestic call in training had one, and the
        model would read its absence as a sign of fraud.
        """
        allowed = [
            i
            for i, v in enumerate(verdicts)
            if v.verdict is Verdict.ALLOW
            and v.signals
            and (v.signals[_HAS_IMSI] or v.signals[_INTERNATIONAL])
        ]
        out = list(verdicts)
        for i, score in zip(
            allowed, self.scores([verdicts[i].signals for i in allowed]), strict=True
        ):
            if score >= self.threshold:
                v = verdicts[i]
                out[i] = replace(v, verdict=Verdict.WARN, reasons=(*v.reasons, "model"))
        return out


def load_screen_model(path: Path = MODEL_PATH) -> ScreenModel:
    """The shipped (or a deployment's) model, checked against its card.

    Raises:
        ConfigError: missing, made by another scikit-learn or for other signals, or changed.
    """
    estimator, card = load_checked(path, features=list(SIGNALS))
    return ScreenModel(estimator=estimator, card=card, compiled=CompiledTrees.of(estimator))


def try_load_screen_model(path: Path = MODEL_PATH) -> ScreenModel | None:
    """The model, or ``None`` (with a warning): screening then rests on the rules alone."""
    try:
        return load_screen_model(path)
    except ConfigError as exc:
        log.warning("call screening decides on its rules alone: %s", exc)
        return None


def configured_screen_model(configured: Path | None) -> ScreenModel | None:
    """The model a deployment uses: the one its settings name (``[antifraud] screen_model``),
    which must load — a deployment that names its own model does not want the rules alone
    instead — or else the shipped one, if it can be used.

    Raises:
        ConfigError: ``configured`` cannot be used (see :func:`load_screen_model`).
    """
    return load_screen_model(configured) if configured else try_load_screen_model(MODEL_PATH)
