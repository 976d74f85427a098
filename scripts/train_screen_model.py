#!/usr/bin/env python3
"""Train call screening's learned model on simulated network days and write it with its card.

``make screen-model`` runs it: two days of ``kupol.antifraud.cdr_sim`` (seeds 1 and 2, 20,000
subscribers each — other subscribers and gangs than the evaluation's day, seed 2026) are
screened by the rules, and scikit-learn's ``HistGradientBoostingClassifier`` (``random_state``
0) learns fraud or not from the rules' window counts (``kupol.antifraud.screen_training``, which
``kupol antifraud train-screen-model`` uses on a deployment's labelled CDRs). The same code and
scikit-learn give the same file byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from kupol.antifraud.cdr import CdrRow
from kupol.antifraud.cdr_sim import simulate_day
from kupol.antifraud.modelfile import save_with_card
from kupol.antifraud.screen_model import MODEL_PATH
from kupol.antifraud.screen_training import LEARNER, Labelled, fit, screen_labelled
from kupol.antifraud.screening import SIGNALS


def day_calls(seed: int, subscribers: int) -> Labelled:
    day = simulate_day(seed, subscribers=subscribers)
    rows = [
        CdrRow(line=i, attempt=c.attempt, answered=c.answered, duration_s=c.duration_s,
               truth=c.truth, source=c.source)
        for i, c in enumerate(day.calls)
    ]  # fmt: skip
    return screen_labelled(rows, name=f"seed {seed}", ported=day.ported)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--out", default=str(MODEL_PATH))
    args = parser.parse_args(argv)
    parts = [day_calls(seed, args.subscribers) for seed in args.seeds]
    x = np.vstack([p.signals for p in parts])
    y = np.concatenate([p.fraud for p in parts])
    model = fit(x, y)
    card = {
        "learner": LEARNER,
        "features": list(SIGNALS),
        "data": f"kupol.antifraud.cdr_sim days, seeds {args.seeds}, {args.subscribers} subscribers",
        "calls": len(y),
        "fraud_calls": int(y.sum()),
    }
    from pathlib import Path

    print(json.dumps(save_with_card(model, Path(args.out), card), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
