"""Anomaly flags for inspectors: every check at once (``detect_all``), and the check of cadets
who pass the state exam without the training hours their category requires.

The other checks live by what they read: ``lesson_checks`` (the lesson log: overlapping
lessons, impossible travel, night lessons) and ``exam_checks`` (exam statistics: inflated
internal exams, state pass-rate outliers, examiners' outliers).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from kupol.schools.exam_checks import examiner_outliers, internal_exam_inflated, state_pass_outliers
from kupol.schools.hours import TrainingProgrammes, load_training_hours, logged_hours
from kupol.schools.lesson_checks import impossible_travel, night_lessons, overlapping_lessons
from kupol.schools.model import Flag, Lesson, Severity, Snapshot

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def missing_hours(
    *,
    data: Snapshot,
    programmes: TrainingProgrammes,
    tolerance_hours: float = 0.5,
) -> tuple[Flag, ...]:
    """Flag cadets who passed a state exam with fewer logged hours than their category needs.

    A cadet is admitted to the state exam only after the whole course, so the lessons that
    count are those that ended before the cadet's first state exam attempt; the programme is
    the one in force on the day the cadet registered. Shortfalls up to ``tolerance_hours``
    (rounding in the log) are let pass.

    Raises:
        InvalidInputError: A cadet's category or registration date has no programme.
    """
    first_state: dict[str, datetime] = {}
    passed: dict[str, set[str]] = defaultdict(set)
    for exam in data.exams:
        if exam.stage != "state":
            continue
        if exam.cadet_id not in first_state or exam.taken_at < first_state[exam.cadet_id]:
            first_state[exam.cadet_id] = exam.taken_at
        if exam.passed:
            passed[exam.cadet_id].add(exam.kind)
    lessons: dict[str, list[Lesson]] = defaultdict(list)
    for lesson in data.lessons:
        if lesson.cadet_id in passed:
            lessons[lesson.cadet_id].append(lesson)
    flags: list[Flag] = []
    for cadet in data.cadets:
        if cadet.id not in passed:
            continue
        need = programmes.required(cadet.category, on=cadet.registered_on)
        before = [x for x in lessons[cadet.id] if x.end <= first_state[cadet.id]]
        got = logged_hours(before, need)
        short_theory = need.theory_hours - got.theory_hours
        short_practice = need.practice_hours - got.practice_hours
        if max(short_theory, short_practice) <= tolerance_hours:
            continue
        fraction = max(
            short_theory / need.theory_hours if need.theory_hours else 0.0,
            short_practice / need.practice_hours if need.practice_hours else 0.0,
        )
        severity: Severity = "high" if fraction >= 0.5 else "medium" if fraction >= 0.2 else "low"
        flags.append(
            Flag(
                kind="missing_hours",
                subject_kind="cadet",
                subject_id=cadet.id,
                school_id=cadet.school_id,
                severity=severity,
                reason=(
                    f"cadet {cadet.id} (category {cadet.category}) passed the state "
                    f"{' and '.join(sorted(passed[cadet.id]))} exam with "
                    f"{got.theory_hours:.1f} of {need.theory_hours:g} hours of theory and "
                    f"{got.practice_hours:.1f} of {need.practice_hours:g} hours of practice "
                    "logged before the first state exam"
                ),
                evidence={
                    "category": cadet.category,
                    "required_theory_hours": need.theory_hours,
                    "logged_theory_hours": round(got.theory_hours, 2),
                    "required_practice_hours": need.practice_hours,
                    "logged_practice_hours": round(got.practice_hours, 2),
                    "first_state_exam": first_state[cadet.id].isoformat(),
                    "programme_from": need.programme_from.isoformat(),
                    "programme_source": need.source,
                    "instructor_id": cadet.instructor_id,
                },
            )
        )
    return tuple(flags)


def detect_all(*, data: Snapshot, programmes: TrainingProgrammes | None = None) -> tuple[Flag, ...]:
    """Every check with its default thresholds, most severe first.

    ``programmes`` defaults to the training hours kupol ships.
    """
    programmes = programmes or load_training_hours()
    flags = (
        *internal_exam_inflated(data=data),
        *state_pass_outliers(data=data),
        *examiner_outliers(data=data),
        *overlapping_lessons(lessons=data.lessons),
        *impossible_travel(lessons=data.lessons),
        *night_lessons(lessons=data.lessons),
        *missing_hours(data=data, programmes=programmes),
    )
    return tuple(sorted(flags, key=lambda f: (SEVERITY_ORDER[f.severity], f.kind, f.subject_id)))
