"""The synthetic region's exams and afterlife (part of ``generator``): internal and state exam
attempts driven by each cadet's skill, the licence, the graduates' first two years of
driving, and complaints.

Pass probabilities are logistic in skill: the school's own exam is easier than the state's
(intercepts below); a retake is a little likelier to pass; an examiner's leniency shifts the
state practice exam. Injected fraud overrides the probabilities (``Overrides``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from kupol.schools.model import Cadet, Complaint, ExamAttempt, ExamKind, ExamStage, GraduateRecord

INTERCEPT: Mapping[tuple[ExamStage, ExamKind], float] = {
    ("internal", "theory"): 1.9,
    ("internal", "practice"): 1.7,
    ("state", "theory"): 0.2,
    ("state", "practice"): 0.0,
}
MAX_ATTEMPTS: Mapping[ExamStage, int] = {"internal": 3, "state": 5}
STEPS: tuple[tuple[ExamStage, ExamKind], ...] = (
    ("internal", "theory"),
    ("internal", "practice"),
    ("state", "theory"),
    ("state", "practice"),
)
RETAKE_GAIN = 0.3
VIOLATIONS_PER_YEAR = 0.35
ACCIDENTS_PER_YEAR = 0.03
COMPLAINTS_PER_CADET = 0.05


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """Injected fraud: forced pass probabilities instead of the skill model."""

    internal_pass: Mapping[str, float] = field(default_factory=dict)  # by school
    state_pass: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # (theory, p.)
    examiner_pass: Mapping[str, float] = field(default_factory=dict)  # state practice
    lucky_schools: frozenset[str] = frozenset()  # every exam passed at the first attempt


@dataclass(frozen=True, kw_only=True)
class Examining:
    """Who examines where, and how lenient each examiner is (logit shift)."""

    examiners_of_region: Mapping[str, Sequence[str]]
    region_of_school: Mapping[str, str]
    leniency: Mapping[str, float]


def take_exams(
    rng: np.random.Generator,
    *,
    cadets: Sequence[Cadet],
    skill: Mapping[str, float],
    trained_by: Mapping[str, date],
    examining: Examining,
    overrides: Overrides,
    as_of: date,
) -> tuple[list[ExamAttempt], dict[str, date]]:
    """Every cadet's exam attempts up to ``as_of`` and the day each licence was issued.

    After training (``trained_by``), the school's theory then practice exam (at most three
    tries each), then the state theory then practice exam (at most five tries each); a cadet
    who fails every try drops out.
    """
    board = _Board(rng=rng, skill=skill, examining=examining, overrides=overrides, as_of=as_of)
    licensed: dict[str, date] = {}
    for cadet in cadets:
        day = trained_by[cadet.id] + timedelta(days=int(rng.integers(2, 11)))
        for stage, kind in STEPS:
            if stage == "state" and kind == "theory":
                day += timedelta(days=int(rng.integers(5, 26)))
            passed_on = board.sit(cadet, stage, kind, day)
            if passed_on is None:
                break
            day = passed_on + timedelta(days=int(rng.integers(1, 15)))
            if stage == "state" and kind == "practice":
                licensed[cadet.id] = passed_on
    return board.attempts, licensed


@dataclass(kw_only=True)
class _Board:
    """The examiners at work: draws each attempt's result and records it."""

    rng: np.random.Generator
    skill: Mapping[str, float]
    examining: Examining
    overrides: Overrides
    as_of: date
    attempts: list[ExamAttempt] = field(default_factory=list)

    def sit(self, cadet: Cadet, stage: ExamStage, kind: ExamKind, day: date) -> date | None:
        """One exam's tries until a pass: the day of the pass, or None (failed out, or the
        next try would be after ``as_of``)."""
        region = self.examining.region_of_school[cadet.school_id]
        for attempt in range(1, MAX_ATTEMPTS[stage] + 1):
            if day > self.as_of:
                return None
            examiner = None
            if stage == "state" and kind == "practice":
                examiner = str(self.rng.choice(self.examining.examiners_of_region[region]))
            p = self.probability(cadet, stage, kind, attempt, examiner)
            passed = bool(self.rng.random() < p)
            self.attempts.append(
                ExamAttempt(
                    id=f"E{len(self.attempts) + 1:06d}",
                    cadet_id=cadet.id,
                    school_id=cadet.school_id,
                    kind=kind,
                    stage=stage,
                    attempt=attempt,
                    passed=passed,
                    taken_at=datetime.combine(day, time(int(self.rng.integers(9, 17)))),
                    examiner_id=examiner,
                )
            )
            if passed:
                return day
            day += timedelta(days=int(self.rng.integers(7, 22)))
        return None

    def probability(
        self, cadet: Cadet, stage: ExamStage, kind: ExamKind, attempt: int, examiner: str | None
    ) -> float:
        """The chance this attempt passes: an injected override, else the skill model."""
        school, forced = cadet.school_id, self.overrides
        if school in forced.lucky_schools:
            return 1.0
        if stage == "internal" and school in forced.internal_pass:
            return forced.internal_pass[school]
        if stage == "state" and school in forced.state_pass:
            return forced.state_pass[school][0 if kind == "theory" else 1]
        if examiner is not None and examiner in forced.examiner_pass:
            return forced.examiner_pass[examiner]
        logit = INTERCEPT[stage, kind] + self.skill[cadet.id] + RETAKE_GAIN * (attempt - 1)
        if examiner is not None:
            logit += self.examining.leniency[examiner]
        return 1 / (1 + math.exp(-logit))


def graduate_records(
    rng: np.random.Generator,
    *,
    cadets: Sequence[Cadet],
    licensed: Mapping[str, date],
    quality: Mapping[str, float],
    spotless: frozenset[str],
    as_of: date,
) -> list[GraduateRecord]:
    """Each licensed cadet's violations and accidents in up to two years of driving; the
    rates fall with the cadet's training ``quality``; ``spotless`` schools' have none."""
    out: list[GraduateRecord] = []
    for cadet in cadets:
        if cadet.id not in licensed or cadet.licence_no is None:
            continue
        years = min(2.0, (as_of - licensed[cadet.id]).days / 365.25)
        risk = math.exp(-0.5 * quality[cadet.id])
        clean = cadet.school_id in spotless
        out.append(
            GraduateRecord(
                cadet_id=cadet.id,
                school_id=cadet.school_id,
                licence_no=cadet.licence_no,
                licensed_on=licensed[cadet.id],
                exposure_years=round(years, 4),
                violations=0 if clean else int(rng.poisson(VIOLATIONS_PER_YEAR * risk * years)),
                accidents=0 if clean else int(rng.poisson(ACCIDENTS_PER_YEAR * risk * years)),
            )
        )
    return out


def complaints(
    rng: np.random.Generator,
    *,
    cadets_of_school: Mapping[str, int],
    instructors_of_school: Mapping[str, Sequence[str]],
    quality: Mapping[str, float],
    since: date,
    as_of: date,
) -> list[Complaint]:
    """Complaints about each school, more of them about worse schools; most are upheld."""
    out: list[Complaint] = []
    days = (as_of - since).days
    for school, count in sorted(cadets_of_school.items()):
        expected = COMPLAINTS_PER_CADET * count * math.exp(-0.7 * quality[school])
        for _ in range(int(rng.poisson(expected))):
            named = instructors_of_school[school]
            out.append(
                Complaint(
                    id=f"K{len(out) + 1:05d}",
                    school_id=school,
                    received_on=since + timedelta(days=int(rng.integers(0, days + 1))),
                    upheld=bool(rng.random() < 0.6),
                    instructor_id=str(rng.choice(named)) if rng.random() < 0.7 else None,
                )
            )
    return out
