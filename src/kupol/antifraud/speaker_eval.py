"""How well speaker embeddings link recordings of one voice: ``kupol eval speakers DIR``.

Public data with many recordings per speaker could not be brought here, so the evaluation
uses what ``DIR`` has (recursively, human clips only: a ``fake`` folder is skipped):

- each recording long enough is cut in two halves (each at least :data:`MIN_HALF` seconds);
  the halves of one recording are a *same-speaker* pair, as are halves of two recordings of
  one named speaker (LibriTTS ``<speaker>_<book>_…`` and CMU Arctic ``arctic_<speaker>``
  file names);
- halves of recordings of different (or unnamed) speakers are *different-speaker* pairs;
- the second half is also sent through a telephone line (8 kHz μ-law) — a recorded call
  compared with a complaint recorded elsewhere.

Reported: the equal error rate, and at kupol's threshold (:data:`speakers.SAME_SPEAKER`) the
share of same-speaker pairs missed and of different-speaker pairs wrongly linked. Halves of
one recording share the microphone and the room, so these figures are better than two
separate calls would give; the cross-recording pairs are counted apart.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kupol.antifraud.audio import RATE, read_audio, through_phone
from kupol.antifraud.speakers import SAME_SPEAKER, SpeakerEncoder, similarity
from kupol.antifraud.voices import AUDIO_SUFFIXES, equal_error_rate
from kupol.core.errors import InvalidInputError

MIN_HALF = 1.2
_LIBRITTS = re.compile(r"^(\d+)_\d+_\d+_\d+$")
_ARCTIC = re.compile(r"^arctic_([a-z]+)\b")


def speaker_label(path: Path) -> str | None:
    """The speaker a file name tells, or None when it tells none."""
    stem = path.stem.removesuffix(".mp3").removesuffix(".wav")
    for pattern, prefix in ((_LIBRITTS, "libritts"), (_ARCTIC, "arctic")):
        match = pattern.match(stem)
        if match:
            return f"{prefix}:{match.group(1)}"
    return None


@dataclass(frozen=True)
class _Halves:
    path: Path
    speaker: str | None
    first: np.ndarray
    second: np.ndarray
    second_phone: np.ndarray


def _pairs(items: list[_Halves], second: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    truth, scores, cross = [], [], []
    for i, a in enumerate(items):
        for j, b in enumerate(items):
            same_clip = i == j
            same = same_clip or (a.speaker is not None and a.speaker == b.speaker)
            truth.append(same)
            scores.append(similarity(a.first, getattr(b, second)))
            cross.append(same and not same_clip)
    return np.array(truth), np.array(scores), np.array(cross)


def _figures(truth: np.ndarray, scores: np.ndarray, cross: np.ndarray) -> dict[str, Any]:
    same, different = scores[truth], scores[~truth]
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(truth, scores)
    at_eer = float(thresholds[int(np.argmin(np.abs((1 - tpr) - fpr)))])
    return {
        "eer": round(equal_error_rate(truth, scores), 4),
        "threshold_at_eer": round(at_eer, 3),
        "missed_at_threshold": round(float(np.mean(same < SAME_SPEAKER)), 4),
        "wrongly_linked_at_threshold": round(float(np.mean(different >= SAME_SPEAKER)), 5),
        "cross_recording_pairs": int(cross.sum()),
        "cross_recording_missed": round(float(np.mean(scores[cross] < SAME_SPEAKER)), 4)
        if cross.any()
        else None,
        "same_pairs": int(truth.sum()),
        "different_pairs": int((~truth).sum()),
    }


def evaluate_speakers(folder: Path, encoder: SpeakerEncoder) -> dict[str, Any]:
    """The figures described in the module, as a JSON-ready dict.

    Raises:
        InvalidInputError: no such folder, or fewer than two usable human recordings.
    """
    if not folder.is_dir():
        raise InvalidInputError(f"{folder}: no such folder")
    paths = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and p.suffix.lower() in AUDIO_SUFFIXES
        and "fake" not in {part.lower() for part in p.relative_to(folder).parts[:-1]}
    ]
    items: list[_Halves] = []
    skipped = 0
    started = time.perf_counter()
    for path in paths:
        samples = read_audio(path)
        half = samples.size // 2
        if half < MIN_HALF * RATE:
            skipped += 1
            continue
        try:
            first = encoder.embed(samples[:half])
            second = encoder.embed(samples[half:])
            phone = encoder.embed(through_phone(samples[half:]))
        except InvalidInputError:
            skipped += 1
            continue
        items.append(_Halves(path, speaker_label(path), first, second, phone))
    elapsed = time.perf_counter() - started
    if len(items) < 2:
        raise InvalidInputError(f"{folder}: fewer than two human recordings of 2×{MIN_HALF} s")
    return {
        "recordings": len(items),
        "skipped_too_short": skipped,
        "named_speakers": len({i.speaker for i in items if i.speaker}),
        "threshold": SAME_SPEAKER,
        "as_recorded": _figures(*_pairs(items, "second")),
        "one_side_through_phone_line": _figures(*_pairs(items, "second_phone")),
        "seconds_per_embedding": round(elapsed / (3 * len(items)), 4),
    }
