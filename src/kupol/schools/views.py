"""What the driving-school service answers: rankings, flags, inspections, public ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kupol.schools import store
from kupol.schools.model import QualityScore


@dataclass(frozen=True, kw_only=True)
class ImportStats:
    """How many records of each kind an import stored (new or replaced)."""

    counts: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class RankedSchool:
    """A school in the ranking: its name and region beside its score and evidence."""

    name: str
    region: str
    score: QualityScore
    open_flags: int


@dataclass(frozen=True, kw_only=True)
class FlagView:
    id: int
    kind: str
    subject_kind: str
    subject_id: str
    school_id: str | None
    region: str
    severity: str
    reason: str
    evidence: dict[str, object]
    status: str
    first_found: str
    last_found: str
    inspection_id: int | None


@dataclass(frozen=True, kw_only=True)
class InspectionView:
    id: int
    school_id: str
    inspected_on: date
    inspector: str
    findings: str
    sanction: str
    fine_tenge: int | None
    flag_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class CheckStats:
    found: int
    new: int
    by_kind: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class PublicRating:
    """One school on the public page: no person named, no cadet counted alone."""

    rank: int | None
    name: str
    region: str
    score: float | None
    low: float | None
    high: float | None
    state_first_attempt_pass: float | None
    """The share of its cadets passing the state practical exam at the first attempt."""
    first_attempts: int
    status: str


def flag_view(r: store.FlagRow) -> FlagView:
    return FlagView(
        id=r.id, kind=r.kind, subject_kind=r.subject_kind, subject_id=r.subject_id,
        school_id=r.school_id, region=r.region, severity=r.severity, reason=r.reason,
        evidence=dict(r.evidence), status=r.status, first_found=r.first_found.isoformat(),
        last_found=r.last_found.isoformat(), inspection_id=r.inspection_id,
    )  # fmt: skip


def inspection_view(r: store.InspectionRow) -> InspectionView:
    return InspectionView(id=r.id, school_id=r.school_id, inspected_on=r.inspected_on,
                          inspector=r.inspector, findings=r.findings, sanction=r.sanction,
                          fine_tenge=r.fine_tenge, flag_ids=list(r.flag_ids))  # fmt: skip
