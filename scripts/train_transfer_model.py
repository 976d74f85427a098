#!/usr/bin/env python3
"""Train the shipped transfer model on the PaySim sample and write it with its card.

``make transfer-model`` runs it on ``../shared/data/fraud/paysim_sample.csv``. The model is
scikit-learn's ``HistGradientBoostingClassifier`` (``random_state`` 0) on the transfers of
steps ≤ 84 — the training side of ``kupol eval transfers``, so the evaluation's figures are
the shipped model's on transfers it never saw. The same data and scikit-learn give the same
file, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from sklearn.ensemble import HistGradientBoostingClassifier

from kupol.antifraud.modelfile import save_with_card
from kupol.antifraud.transfer_eval import evaluate_transfers
from kupol.antifraud.transfer_model import MODEL_PATH, training_rows
from kupol.antifraud.transfer_signals import FEATURES
from kupol.antifraud.transfers import read_paysim

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "data", type=Path, nargs="?", default=ROOT.parent / "shared/data/fraud/paysim_sample.csv"
    )
    parser.add_argument("--split-step", type=int, default=84)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    read = read_paysim(args.data)
    x, y = training_rows(read.transfers, until_step=args.split_step)
    model = HistGradientBoostingClassifier(random_state=0).fit(x, y)
    figures = evaluate_transfers(args.data, split_step=args.split_step)
    card = {
        "learner": "sklearn.ensemble.HistGradientBoostingClassifier(random_state=0)",
        "features": list(FEATURES),
        "data": args.data.name,
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "trained_on": f"steps <= {args.split_step}: {len(y)} transfers, {int(y.sum())} fraud",
        "held_out": {
            k: figures[k]
            for k in ("test", "precision", "recall", "roc_auc", "amount_protected_share")
        },
    }
    print(json.dumps(save_with_card(model, args.out, card), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
