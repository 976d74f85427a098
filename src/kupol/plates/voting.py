"""Reading across frames: one plate text for a vehicle track, voted over its frames' reads, so
one blurry frame does not decide.

Each read votes with its confidence. Reads are first fitted to the Kazakh formats (``O``/``0``
and the like swapped back where the format says which it must be); the text length most of the
confidence agrees on wins, then each position's character is chosen by the confidence behind
it. The result's confidence is the share of the track's confidence that agrees with it,
character by character — a track whose frames disagree gets a low one.

Example:
    >>> reads = [TrackRead(text="123ABC02", confidence=0.9, frame=1),
    ...          TrackRead(text="123A8C02", confidence=0.6, frame=2),
    ...          TrackRead(text="I23ABC02", confidence=0.7, frame=3)]
    >>> voted = vote(reads)
    >>> voted.text, round(voted.confidence, 2), voted.best_frame
    ('123ABC02', 1.0, 1)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from kupol.plates.formats import PlateKind, fit_to_kazakh_format, normalise, parse_plate


@dataclass(frozen=True, kw_only=True)
class TrackRead:
    """What the reader read on one frame of a vehicle's track."""

    text: str
    confidence: float
    frame: int
    """Which frame (its crop is the evidence if this read is the best)."""


@dataclass(frozen=True, kw_only=True)
class VotedPlate:
    """The track's plate."""

    text: str
    confidence: float
    kind: PlateKind
    reads: int
    """Reads that voted (empty reads do not)."""
    best_frame: int
    """The frame whose read agrees with the result and was read most confidently."""


def vote(reads: Sequence[TrackRead]) -> VotedPlate | None:
    """The plate a track's reads agree on, or ``None`` when nothing was read."""
    fitted = [
        TrackRead(
            text=fit_to_kazakh_format(r.text), confidence=max(0.0, r.confidence), frame=r.frame
        )
        for r in reads
        if normalise(r.text)
    ]
    if not fitted:
        return None
    by_length: dict[int, float] = defaultdict(float)
    for read in fitted:
        by_length[len(read.text)] += read.confidence or 1e-6
    length = max(by_length, key=lambda n: (by_length[n], n))
    voters = [r for r in fitted if len(r.text) == length]
    chars = []
    agreement = 0.0
    total = sum(r.confidence or 1e-6 for r in fitted)
    for position in range(length):
        weights: dict[str, float] = defaultdict(float)
        for read in voters:
            weights[read.text[position]] += read.confidence or 1e-6
        char = max(weights, key=lambda c: (weights[c], c))
        chars.append(char)
        agreement += weights[char] / total
    text = "".join(chars)
    agreeing = [r for r in voters if r.text == text] or voters
    best = max(agreeing, key=lambda r: r.confidence)
    return VotedPlate(
        text=text,
        confidence=agreement / length,
        kind=parse_plate(text).kind,
        reads=len(fitted),
        best_frame=best.frame,
    )
