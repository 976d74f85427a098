"""What a school's or instructor's cadets achieved, counted from the registry: the tallies a
quality score is made of.

Only outcomes a school cannot easily game are counted: first attempts at the STATE exam (not
the school's own exam), its licensed graduates' violations and accidents in their first two
years of driving (per graduate-year of driving), and upheld complaints (per cadet
registered; complaints not upheld are left out, as competitors can file them at will).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kupol.schools.model import ExamAttempt, ExamKind, ExamStage, Snapshot

ComponentName = Literal["state_theory", "state_practice", "violations", "accidents", "complaints"]
PROPORTIONS: frozenset[str] = frozenset({"state_theory", "state_practice"})
UNITS: Mapping[str, str] = {
    "state_theory": "first attempts",
    "state_practice": "first attempts",
    "violations": "graduate-years",
    "accidents": "graduate-years",
    "complaints": "cadets",
}


@dataclass(frozen=True, kw_only=True)
class Tally:
    """``events`` (passes, violations, accidents, upheld complaints) out of ``n`` (attempts,
    graduate-years of driving, or cadets registered)."""

    events: int
    n: float


@dataclass(frozen=True, kw_only=True)
class UnitOutcomes:
    """A school's or instructor's tallies by component name."""

    subject_id: str
    school_id: str
    tallies: Mapping[str, Tally]


def first_attempts(
    exams: Iterable[ExamAttempt], *, stage: ExamStage, kind: ExamKind
) -> dict[str, ExamAttempt]:
    """Each cadet's first attempt at one exam, by cadet id.

    Example:
        >>> from datetime import datetime
        >>> a = ExamAttempt(id="e1", cadet_id="c1", school_id="s1", kind="practice",
        ...     stage="state", attempt=1, passed=False, taken_at=datetime(2025, 5, 1, 10))
        >>> list(first_attempts([a], stage="state", kind="practice"))
        ['c1']
    """
    return {e.cadet_id: e for e in exams if e.stage == stage and e.kind == kind and e.attempt == 1}


def school_outcomes(data: Snapshot) -> tuple[UnitOutcomes, ...]:
    """Every school's tallies, in the order of ``data.schools``."""
    schools = tuple(s.id for s in data.schools)
    cadet_school = {c.id: c.school_id for c in data.cadets}
    complaints = [(c.school_id, c.upheld) for c in data.complaints]
    return _outcomes(
        data,
        units=schools,
        school_of={s: s for s in schools},
        unit_of_cadet=cadet_school,
        complaints=complaints,
        components=("state_theory", "state_practice", "violations", "accidents", "complaints"),
    )


def instructor_outcomes(data: Snapshot) -> tuple[UnitOutcomes, ...]:
    """Every driving instructor's tallies (teachers of theory have none): their cadets' state
    practice exams, their graduates' driving record and complaints naming them."""
    instructors = tuple(i.id for i in data.instructors if i.categories)
    school_of = {i.id: i.school_id for i in data.instructors}
    cadet_instructor = {c.id: c.instructor_id for c in data.cadets if c.instructor_id}
    complaints = [(c.instructor_id, c.upheld) for c in data.complaints if c.instructor_id]
    return _outcomes(
        data,
        units=instructors,
        school_of=school_of,
        unit_of_cadet=cadet_instructor,
        complaints=complaints,
        components=("state_practice", "violations", "accidents", "complaints"),
    )


def _outcomes(
    data: Snapshot,
    *,
    units: Sequence[str],
    school_of: Mapping[str, str],
    unit_of_cadet: Mapping[str, str],
    complaints: Iterable[tuple[str, bool]],
    components: tuple[ComponentName, ...],
) -> tuple[UnitOutcomes, ...]:
    events: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    n: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    exams: tuple[tuple[str, ExamKind], ...] = (
        ("state_theory", "theory"),
        ("state_practice", "practice"),
    )
    for name, kind in exams:
        for cadet_id, exam in first_attempts(data.exams, stage="state", kind=kind).items():
            unit = unit_of_cadet.get(cadet_id)
            if unit is not None:
                events[unit][name] += int(exam.passed)
                n[unit][name] += 1
    for graduate in data.graduates:
        unit = unit_of_cadet.get(graduate.cadet_id)
        if unit is not None:
            events[unit]["violations"] += graduate.violations
            events[unit]["accidents"] += graduate.accidents
            n[unit]["violations"] += graduate.exposure_years
            n[unit]["accidents"] += graduate.exposure_years
    for unit in unit_of_cadet.values():
        n[unit]["complaints"] += 1
    for unit, upheld in complaints:
        events[unit]["complaints"] += int(upheld)
    return tuple(
        UnitOutcomes(
            subject_id=unit,
            school_id=school_of[unit],
            tallies={c: Tally(events=events[unit][c], n=n[unit][c]) for c in components},
        )
        for unit in units
    )
