"""How well the anomaly flags find the fraud injected into a synthetic region: precision and
recall per kind of flag, counting distinct (kind, subject kind, subject id) — two flags on one
school (theory and practice) are one finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kupol.schools.generator import GroundTruth
from kupol.schools.model import FLAG_KINDS, Flag


@dataclass(frozen=True, kw_only=True)
class FlagAccuracy:
    """One kind of flag against the truth; ``precision`` and ``recall`` are ``None`` when
    nothing was flagged or nothing was injected."""

    kind: str
    flagged: int
    expected: int
    found: int
    precision: float | None
    recall: float | None


def flag_accuracy(*, flags: Iterable[Flag], truth: GroundTruth) -> dict[str, FlagAccuracy]:
    """Precision and recall of ``flags`` against ``truth.expected``, by kind of flag.

    Example:
        >>> from kupol.schools.anomalies import detect_all
        >>> from kupol.schools.generator import GeneratorConfig, generate_region
        >>> region = generate_region(seed=1, config=GeneratorConfig(schools=12))
        >>> scores = flag_accuracy(flags=detect_all(data=region.data), truth=region.truth)
        >>> scores["overlapping_lessons"].recall
        1.0
    """
    found = {(f.kind, f.subject_kind, f.subject_id) for f in flags}
    out: dict[str, FlagAccuracy] = {}
    for kind in FLAG_KINDS:
        flagged = {key for key in found if key[0] == kind}
        expected = {key for key in truth.expected if key[0] == kind}
        hits = len(flagged & expected)
        out[kind] = FlagAccuracy(
            kind=kind,
            flagged=len(flagged),
            expected=len(expected),
            found=hits,
            precision=hits / len(flagged) if flagged else None,
            recall=hits / len(expected) if expected else None,
        )
    return out
