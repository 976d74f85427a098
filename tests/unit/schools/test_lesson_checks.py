"""Lessons that cannot have happened as logged: overlaps, impossible travel, night lessons."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from kupol.schools.lesson_checks import impossible_travel, night_lessons, overlapping_lessons
from kupol.schools.model import Lesson
from tests.unit.schools.builders import ALMATY, ASTANA, MONDAY, lesson

NEARBY = (43.2450, 76.9000)  # about 1 km from ALMATY
ACROSS_TOWN = (43.2000, 76.8000)  # about 8.3 km from ALMATY


def a_clean_day() -> list[Lesson]:
    """Four back-to-back two-hour lessons, the car handed over a minute late, and a class."""
    day = [
        lesson(start=MONDAY + timedelta(hours=2 * i, minutes=1 if i else 0), cadet=f"C{i}")
        for i in range(4)
    ]
    day += [
        lesson(
            start=MONDAY.replace(hour=18, minute=30),
            minutes=180,
            kind="theory",
            instructor="T1",
            cadet=f"C{i}",
        )
        for i in range(4)
    ]
    return day


def test_a_clean_day_raises_no_flag() -> None:
    day = a_clean_day()
    assert overlapping_lessons(lessons=day) == ()
    assert impossible_travel(lessons=day) == ()
    assert night_lessons(lessons=day) == ()


def test_two_practice_lessons_at_once_flag_the_instructor_and_the_car() -> None:
    day = a_clean_day()
    phantom = lesson(start=MONDAY + timedelta(minutes=45), cadet="ghost")
    flags = overlapping_lessons(lessons=[*day, phantom])
    assert [(f.subject_kind, f.subject_id) for f in flags] == [
        ("instructor", "I1"),
        ("vehicle", "V1"),
    ]
    flag = flags[0]
    assert flag.kind == "overlapping_lessons"
    # The phantom overlaps the 10:00 lesson by 75 min and the 12:01 one by 44 min.
    assert flag.evidence["pairs"] == 2
    assert flag.evidence["overlap_minutes"] == 119.0
    assert phantom.id in str(flag.evidence["examples"])
    assert flag.severity == "low"
    assert "at the same time" in flag.reason


def test_the_same_car_with_two_instructors_at_once_flags_the_car_only() -> None:
    flags = overlapping_lessons(
        lessons=[lesson(start=MONDAY), lesson(start=MONDAY, instructor="I2", cadet="C2")]
    )
    assert [(f.subject_kind, f.subject_id) for f in flags] == [("vehicle", "V1")]


def test_a_handover_within_the_tolerance_is_not_an_overlap() -> None:
    early = [lesson(start=MONDAY), lesson(start=MONDAY + timedelta(minutes=116))]
    assert overlapping_lessons(lessons=early) == ()
    assert len(overlapping_lessons(lessons=early, tolerance_min=0)) == 2


def test_many_overlaps_are_severe() -> None:
    days = [MONDAY + timedelta(days=d) for d in range(10)]
    lessons = [lesson(start=d) for d in days] + [lesson(start=d, cadet="ghost") for d in days]
    assert {f.severity for f in overlapping_lessons(lessons=lessons)} == {"high"}


def test_a_lesson_in_astana_fifteen_minutes_after_one_in_almaty_is_impossible() -> None:
    home = lesson(start=MONDAY, place=ALMATY)
    away = lesson(start=MONDAY + timedelta(minutes=135), place=ASTANA)
    flags = impossible_travel(lessons=[home, away])
    assert [(f.subject_kind, f.subject_id) for f in flags] == [
        ("instructor", "I1"),
        ("vehicle", "V1"),
    ]
    km = flags[0].evidence["worst_km"]
    assert isinstance(km, float) and km > 900
    assert flags[0].evidence["worst_gap_min"] == 15.0
    assert flags[0].severity == "high"


def test_a_drive_across_town_needs_the_time_to_drive_it() -> None:
    def pair(gap_min: int) -> list[Lesson]:
        return [
            lesson(start=MONDAY, end_place=ACROSS_TOWN),
            lesson(start=MONDAY + timedelta(minutes=120 + gap_min), place=ALMATY),
        ]

    assert len(impossible_travel(lessons=pair(3))) == 2  # 8.5 km in 3 min: 170 km/h
    assert impossible_travel(lessons=pair(15)) == ()  # 34 km/h
    assert len(impossible_travel(lessons=pair(15), max_speed_kmh=30)) == 2
    assert impossible_travel(lessons=pair(3), slack_km=10) == ()


def test_gps_jitter_at_the_training_ground_is_not_travel() -> None:
    lessons = [lesson(start=MONDAY), lesson(start=MONDAY + timedelta(hours=2), place=NEARBY)]
    assert impossible_travel(lessons=lessons) == ()


def test_a_lesson_around_midnight_flags_the_instructor() -> None:
    late = lesson(start=datetime(2025, 3, 3, 23, 0), minutes=90)
    flags = night_lessons(lessons=[*a_clean_day(), late])
    assert [(f.subject_kind, f.subject_id, f.kind) for f in flags] == [
        ("instructor", "I1", "night_lesson")
    ]
    assert flags[0].evidence["night_lessons"] == 1
    assert flags[0].evidence["examples"] == (late.id,)


def test_allowed_hours_are_the_callers_to_set() -> None:
    dawn = lesson(start=datetime(2025, 3, 3, 6, 30), minutes=60)
    assert len(night_lessons(lessons=[dawn])) == 1
    assert night_lessons(lessons=[dawn], earliest=time(6)) == ()
