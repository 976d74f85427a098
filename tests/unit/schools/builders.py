"""Hand-made registry records for the driving-school tests: lessons, exam attempts and
snapshots with only what a test is about."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

from kupol.schools.model import (
    Cadet,
    Complaint,
    ExamAttempt,
    Examiner,
    ExamKind,
    ExamStage,
    GraduateRecord,
    Lesson,
    LessonKind,
    Place,
    School,
    Snapshot,
)

MONDAY = datetime(2025, 3, 3, 10)
ALMATY: Place = (43.2389, 76.8897)
ASTANA: Place = (51.1694, 71.4491)
_ids = count(1)


def lesson(
    *,
    start: datetime,
    minutes: int = 120,
    instructor: str = "I1",
    vehicle: str | None = "V1",
    cadet: str = "C1",
    school: str = "S1",
    kind: LessonKind = "practice",
    place: Place = ALMATY,
    end_place: Place | None = None,
) -> Lesson:
    """A lesson; practice in car V1 with instructor I1 in Almaty unless told otherwise."""
    return Lesson(
        id=f"L{next(_ids)}",
        school_id=school,
        cadet_id=cadet,
        instructor_id=instructor,
        vehicle_id=vehicle if kind == "practice" else None,
        kind=kind,
        start=start,
        end=start + timedelta(minutes=minutes),
        start_place=place,
        end_place=end_place,
    )


def attempts(
    school: str,
    *,
    passed: int,
    of: int,
    stage: ExamStage = "state",
    kind: ExamKind = "practice",
    attempt: int = 1,
    examiner: str | None = None,
) -> list[ExamAttempt]:
    """``of`` attempts by ``of`` different cadets of ``school``, the first ``passed`` passed."""
    return [
        ExamAttempt(
            id=f"E{next(_ids)}",
            cadet_id=f"{school}-{examiner or ''}-{i}",
            school_id=school,
            kind=kind,
            stage=stage,
            attempt=attempt,
            passed=i < passed,
            taken_at=MONDAY + timedelta(days=30),
            examiner_id=examiner,
        )
        for i in range(of)
    ]


def school(school_id: str, region: str = "Almaty") -> School:
    """A school registered long ago, teaching category B."""
    return School(
        id=school_id,
        name=f"School {school_id}",
        region=region,
        licence_no=f"L-{school_id}",
        registered_on=date(2015, 1, 1),
    )


def cadet(cadet_id: str, *, school_id: str = "S1", instructor: str | None = "I1") -> Cadet:
    """A category B cadet registered on 1 February 2025."""
    return Cadet(
        id=cadet_id,
        school_id=school_id,
        category="B",
        registered_on=date(2025, 2, 1),
        instructor_id=instructor,
    )


def snapshot(
    *,
    schools: list[School],
    exams: list[ExamAttempt] | None = None,
    examiners: list[Examiner] | None = None,
    cadets: list[Cadet] | None = None,
    lessons: list[Lesson] | None = None,
    graduates: list[GraduateRecord] | None = None,
    complaints: list[Complaint] | None = None,
) -> Snapshot:
    """A snapshot on 31 December 2025 of just these records."""
    return Snapshot(
        as_of=date(2025, 12, 31),
        schools=tuple(schools),
        exams=tuple(exams or ()),
        examiners=tuple(examiners or ()),
        cadets=tuple(cadets or ()),
        lessons=tuple(lessons or ()),
        graduates=tuple(graduates or ()),
        complaints=tuple(complaints or ()),
    )
