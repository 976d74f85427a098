#!/usr/bin/env python3
"""Train the shipped synthetic-speech detector on the shared Fake-or-Real clips' training/
folder (each clip as given, through MP3 and through a telephone line) and write it with its
card. ``make voice-model`` runs it; the same clips and scikit-learn give the same file.

A 5-fold cross-validated EER on the training clips (folds by clip, so a clip's channels stay
together) is written to the card; the held-out figures come from ``kupol eval voices
.../validation``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from kupol.antifraud.modelfile import save_with_card
from kupol.antifraud.voices import (
    FEATURES,
    MODEL_PATH,
    equal_error_rate,
    labelled_clips,
    new_classifier,
    training_matrix,
)

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = 3  # as given, MP3, phone line: training_matrix's rows come in this order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "folder",
        type=Path,
        nargs="?",
        default=ROOT.parent / "shared/data/voice/fake-or-real/training",
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    clips = labelled_clips(args.folder)
    x, y = training_matrix(clips)
    groups = np.repeat(np.arange(len(clips)), CHANNELS)
    from sklearn.model_selection import GroupKFold, cross_val_predict

    cv = cross_val_predict(
        new_classifier(), x, y, groups=groups, cv=GroupKFold(5), method="predict_proba"
    )[:, 1]
    model = new_classifier().fit(x, y)
    digest = hashlib.sha256()
    for clip in clips:
        digest.update(clip.path.name.encode() + clip.path.read_bytes())
    card = {
        "learner": "StandardScaler + SVC(C=1, RBF, probability=True, random_state=0)",
        "features": FEATURES,
        "data": f"{args.folder.parent.name}/{args.folder.name}",
        "clips": {
            "synthetic": int(sum(c.synthetic for c in clips)),
            "human": len(clips) - int(sum(c.synthetic for c in clips)),
        },
        "channels": ["as given", "MP3 32 kbit/s", "telephone line 8 kHz mu-law"],
        "data_sha256": digest.hexdigest(),
        "cv_eer_training": round(equal_error_rate(y, cv), 4),
    }
    print(json.dumps(save_with_card(model, args.out, card), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
