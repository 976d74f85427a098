"""Cadets who pass the state exam without their hours, and every check at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from kupol.schools.anomalies import detect_all, missing_hours
from kupol.schools.hours import load_training_hours
from kupol.schools.model import ExamAttempt, Lesson
from tests.unit.schools.builders import MONDAY, cadet, lesson, school, snapshot

STATE_EXAM = datetime(2025, 6, 2, 10)
PROGRAMMES = load_training_hours()


def training(cadet_id: str, *, classes: int, drives: int, start: datetime = MONDAY) -> list[Lesson]:
    """``classes`` theory classes of 4 academic hours and ``drives`` two-hour drives."""
    theory = [
        lesson(
            start=start.replace(hour=18) + timedelta(days=d),
            minutes=180,
            kind="theory",
            cadet=cadet_id,
            instructor="T1",
        )
        for d in range(classes)
    ]
    practice = [lesson(start=start + timedelta(days=d), cadet=cadet_id) for d in range(drives)]
    return theory + practice


def state_exam(cadet_id: str, *, passed: bool, kind: str = "theory") -> ExamAttempt:
    return ExamAttempt(
        id=f"E-{cadet_id}-{kind}",
        cadet_id=cadet_id,
        school_id="S1",
        kind="theory" if kind == "theory" else "practice",
        stage="state",
        attempt=1,
        passed=passed,
        taken_at=STATE_EXAM,
    )


def full_training(cadet_id: str, *, start: datetime = MONDAY) -> list[Lesson]:
    """Category B's 90 academic hours of theory (23 classes of 4) and 40 hours at the wheel."""
    return training(cadet_id, classes=23, drives=20, start=start)


def test_a_cadet_who_passes_with_a_fraction_of_the_hours_is_flagged() -> None:
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet("full"), cadet("short")],
        lessons=full_training("full") + training("short", classes=4, drives=10),
        exams=[state_exam("full", passed=True), state_exam("short", passed=True)],
    )
    flags = missing_hours(data=data, programmes=PROGRAMMES)
    assert [(f.kind, f.subject_kind, f.subject_id, f.school_id) for f in flags] == [
        ("missing_hours", "cadet", "short", "S1")
    ]
    evidence = flags[0].evidence
    assert evidence["logged_theory_hours"] == 16.0  # 4 × 180 min / 45
    assert evidence["logged_practice_hours"] == 20.0
    assert (evidence["required_theory_hours"], evidence["required_practice_hours"]) == (90, 40)
    assert flags[0].severity == "high"
    assert "16.0 of 90 hours of theory" in flags[0].reason


def test_lessons_logged_after_the_state_exam_do_not_make_up_the_hours() -> None:
    after = full_training("late", start=STATE_EXAM + timedelta(days=1))
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet("late")],
        lessons=training("late", classes=4, drives=10) + after,
        exams=[state_exam("late", passed=True)],
    )
    assert [f.subject_id for f in missing_hours(data=data, programmes=PROGRAMMES)] == ["late"]


def test_a_short_cadet_who_has_not_passed_is_not_flagged_yet() -> None:
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet("failed"), cadet("training")],
        lessons=training("failed", classes=4, drives=10)
        + training("training", classes=2, drives=1),
        exams=[state_exam("failed", passed=False)],
    )
    assert missing_hours(data=data, programmes=PROGRAMMES) == ()


def test_a_shortfall_within_the_tolerance_is_let_pass() -> None:
    lessons = full_training("nearly")
    lessons[-1] = lesson(start=lessons[-1].start, minutes=100, cadet="nearly")  # 20 min short
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet("nearly")],
        lessons=lessons,
        exams=[state_exam("nearly", passed=True)],
    )
    assert missing_hours(data=data, programmes=PROGRAMMES) == ()
    assert len(missing_hours(data=data, programmes=PROGRAMMES, tolerance_hours=0.1)) == 1


def test_every_check_at_once_lists_the_most_severe_first() -> None:
    lessons = training("short", classes=20, drives=18) + training("shorter", classes=4, drives=4)
    lessons.append(lesson(start=MONDAY + timedelta(minutes=30), cadet="ghost"))
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet("short"), cadet("shorter")],
        lessons=lessons,
        exams=[state_exam("short", passed=True), state_exam("shorter", passed=True)],
    )
    flags = detect_all(data=data)
    assert [f.severity for f in flags] == sorted(
        (f.severity for f in flags), key=["high", "medium", "low"].index
    )
    assert {f.kind for f in flags} == {"missing_hours", "overlapping_lessons"}


def test_a_clean_registry_raises_no_flag() -> None:
    data = snapshot(
        schools=[school("S1")],
        cadets=[cadet("full")],
        lessons=full_training("full"),
        exams=[state_exam("full", passed=True)],
    )
    assert detect_all(data=data) == ()
