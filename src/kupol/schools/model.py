"""The driving-school registry's records and the quality-control results derived from them.

Times are local wall-clock times (Kazakhstan keeps one time zone since 2024), naive
``datetime`` values; places are (latitude, longitude) in WGS 84 degrees.

A theory lesson record is one cadet's attendance at a class: a class of twenty cadets is
twenty records with the same teacher, time and place. A practice lesson is one cadet at the
wheel of one vehicle with one instructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from kupol.core.errors import InvalidInputError

Category = Literal["A1", "A", "B1", "B", "BE", "C1", "C", "C1E", "CE", "D1", "D", "D1E", "DE"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
LessonKind = Literal["theory", "practice"]
ExamKind = Literal["theory", "practice"]
ExamStage = Literal["internal", "state"]
SubjectKind = Literal["school", "instructor", "vehicle", "cadet", "examiner"]
Severity = Literal["low", "medium", "high"]
FlagKind = Literal[
    "internal_exam_inflated",
    "state_pass_outlier",
    "overlapping_lessons",
    "impossible_travel",
    "night_lesson",
    "missing_hours",
    "examiner_outlier",
]
FLAG_KINDS: tuple[str, ...] = FlagKind.__args__  # type: ignore[attr-defined]
Place = tuple[float, float]
EvidenceValue = str | int | float | bool | None | tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class School:
    """A registered driving school (its licence or notification number, and where it is)."""

    id: str
    name: str
    region: str
    licence_no: str
    registered_on: date
    categories: tuple[Category, ...] = ("B",)


@dataclass(frozen=True, kw_only=True)
class Branch:
    """A school's classroom and training ground."""

    id: str
    school_id: str
    address: str
    place: Place


@dataclass(frozen=True, kw_only=True)
class Instructor:
    """A driving instructor or theory teacher (a teacher has no ``categories``)."""

    id: str
    school_id: str
    name: str
    categories: tuple[Category, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Vehicle:
    """A school's training vehicle (dual controls)."""

    id: str
    school_id: str
    plate: str
    category: Category


@dataclass(frozen=True, kw_only=True)
class Examiner:
    """A state examiner of the police's examination unit in ``region``."""

    id: str
    region: str
    name: str


@dataclass(frozen=True, kw_only=True)
class Cadet:
    """A learner, registered with the school from the first day of the course.

    ``instructor_id`` is the cadet's practice instructor (whose quality the cadet's results
    speak for); ``licence_no`` is set once the licence is issued.
    """

    id: str
    school_id: str
    category: Category
    registered_on: date
    instructor_id: str | None = None
    licence_no: str | None = None


@dataclass(frozen=True, kw_only=True)
class Lesson:
    """One logged lesson: who, with which vehicle, when and where it started and ended."""

    id: str
    school_id: str
    cadet_id: str
    instructor_id: str
    kind: LessonKind
    start: datetime
    end: datetime
    start_place: Place
    end_place: Place | None = None
    vehicle_id: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInputError(f"lesson {self.id}: it must end after it starts")

    @property
    def minutes(self) -> float:
        """The lesson's logged length in minutes."""
        return (self.end - self.start).total_seconds() / 60

    @property
    def finish_place(self) -> Place:
        """Where the lesson ended (where it started, when no end place was logged)."""
        return self.end_place if self.end_place is not None else self.start_place


@dataclass(frozen=True, kw_only=True)
class ExamAttempt:
    """One attempt at an exam: the school's own (``internal``) or the police's (``state``).

    ``attempt`` counts the cadet's attempts at this kind and stage, from 1.
    """

    id: str
    cadet_id: str
    school_id: str
    kind: ExamKind
    stage: ExamStage
    attempt: int
    passed: bool
    taken_at: datetime
    examiner_id: str | None = None

    def __post_init__(self) -> None:
        if self.attempt < 1:
            raise InvalidInputError(f"exam attempt {self.id}: attempts are counted from 1")


@dataclass(frozen=True, kw_only=True)
class GraduateRecord:
    """A licensed graduate's first two years of driving, joined by licence number from the
    violations and accident registries: the counts and the years of driving they cover."""

    cadet_id: str
    school_id: str
    licence_no: str
    licensed_on: date
    exposure_years: float
    violations: int = 0
    accidents: int = 0

    def __post_init__(self) -> None:
        if self.exposure_years < 0 or self.violations < 0 or self.accidents < 0:
            raise InvalidInputError(f"graduate {self.cadet_id}: counts and years must be >= 0")


@dataclass(frozen=True, kw_only=True)
class Complaint:
    """A complaint about a school (and its instructor, when named); ``upheld`` once checked."""

    id: str
    school_id: str
    received_on: date
    upheld: bool
    instructor_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What the registry holds for one region on ``as_of``: the input of scores and flags."""

    as_of: date
    schools: tuple[School, ...]
    branches: tuple[Branch, ...] = ()
    instructors: tuple[Instructor, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    examiners: tuple[Examiner, ...] = ()
    cadets: tuple[Cadet, ...] = ()
    lessons: tuple[Lesson, ...] = ()
    exams: tuple[ExamAttempt, ...] = ()
    graduates: tuple[GraduateRecord, ...] = ()
    complaints: tuple[Complaint, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A confidence interval, ``low`` to ``high``."""

    low: float
    high: float


@dataclass(frozen=True, kw_only=True)
class Component:
    """One part of a quality score, with the evidence behind it.

    ``events`` of ``n`` (first attempts passed; violations, accidents or upheld complaints)
    give the raw ``estimate`` (a proportion, or a rate per ``unit``) and its ``interval``;
    ``shrunk`` is the empirical-Bayes estimate pulled towards the region's ``region_mean``;
    ``z`` is how far ``shrunk`` stands from it in between-unit standard deviations, signed
    so that higher is better; ``sufficient`` says whether ``n`` reaches ``minimum``.
    """

    name: str
    unit: str
    events: int
    n: float
    estimate: float | None
    interval: Interval | None
    shrunk: float
    region_mean: float
    z: float
    weight: float
    minimum: float
    sufficient: bool


@dataclass(frozen=True, kw_only=True)
class QualityScore:
    """A school's or instructor's quality: a rank only when every component has enough data.

    ``score`` is the weighted sum of the components' ``z`` (0 is the region's average, higher
    is better) and ``interval`` its 95 % interval; both are ``None`` with ``insufficient_data``.
    """

    subject_kind: Literal["school", "instructor"]
    subject_id: str
    school_id: str
    status: Literal["ranked", "insufficient_data"]
    score: float | None
    interval: Interval | None
    rank: int | None
    components: tuple[Component, ...]
    reason: str


@dataclass(frozen=True, kw_only=True)
class Flag:
    """An anomaly an inspector should look at: what, about whom, how bad, and why."""

    kind: FlagKind
    subject_kind: SubjectKind
    subject_id: str
    school_id: str | None
    severity: Severity
    reason: str
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict, hash=False)
