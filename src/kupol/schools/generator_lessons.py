"""The synthetic region's honest lesson log (part of ``generator``): evening theory classes and
an instructor's calendar of two-hour driving lessons, as a school that keeps the programme
would log them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from kupol.schools.hours import TrainingProgrammes
from kupol.schools.model import Cadet, Lesson, Place

CLASS_START = time(18, 30)
CLASS_MIN = 180  # four academic hours of 45 minutes
CLASS_DAYS = (0, 2, 4)  # Monday, Wednesday, Friday
DRIVE_MIN = 120
DRIVE_SLOTS = (8, 10, 12, 14, 16, 18)  # start hours of the day's driving lessons
PRACTICE_AFTER = timedelta(days=14)  # theory first, then the wheel
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, kw_only=True)
class Staff:
    """Who teaches a school's cadets, with what, and where."""

    teacher_of_school: Mapping[str, str]
    classroom_of_school: Mapping[str, Place]
    vehicle_of_instructor: Mapping[str, str]
    ground_of_instructor: Mapping[str, Place]


def jitter(rng: np.random.Generator, place: Place, metres: float) -> Place:
    """``place`` moved by a random offset of about ``metres`` (GPS error, a street away)."""
    dlat, dlon = rng.normal(0.0, metres, size=2)
    lat = place[0] + dlat / METRES_PER_DEGREE
    lon = place[1] + dlon / (METRES_PER_DEGREE * math.cos(math.radians(place[0])))
    return (round(float(lat), 6), round(float(lon), 6))


def lesson_ids(prefix: str = "L") -> Iterator[str]:
    """``L000001``, ``L000002`` … for the lessons of one generated region."""
    n = 0
    while True:
        n += 1
        yield f"{prefix}{n:06d}"


def schedule_lessons(
    rng: np.random.Generator,
    *,
    cadets: Sequence[Cadet],
    staff: Staff,
    programmes: TrainingProgrammes,
    factors: Mapping[str, tuple[float, float]],
    ids: Iterator[str],
) -> list[Lesson]:
    """Theory classes and driving lessons for every cadet, enough for the programme times
    the cadet's (theory, practice) factor in ``factors`` (1, 1 when absent)."""
    lessons: list[Lesson] = []
    sessions: dict[str, int] = {}
    for cadet in cadets:
        need = programmes.required(cadet.category, on=cadet.registered_on)
        theory_factor, practice_factor = factors.get(cadet.id, (1.0, 1.0))
        classes = math.ceil(need.theory_hours * need.theory_hour_min * theory_factor / CLASS_MIN)
        lessons += _classes(cadet, classes, staff, ids)
        sessions[cadet.id] = math.ceil(
            need.practice_hours * need.practice_hour_min * practice_factor / DRIVE_MIN
        )
    by_instructor: dict[str, list[Cadet]] = {}
    for cadet in cadets:
        if cadet.instructor_id is not None:
            by_instructor.setdefault(cadet.instructor_id, []).append(cadet)
    for instructor, own in sorted(by_instructor.items()):
        lessons += _calendar(rng, instructor, own, sessions, staff, ids)
    return lessons


def _classes(cadet: Cadet, count: int, staff: Staff, ids: Iterator[str]) -> list[Lesson]:
    out: list[Lesson] = []
    day = cadet.registered_on + timedelta(days=1)
    while len(out) < count:
        if day.weekday() in CLASS_DAYS:
            start = datetime.combine(day, CLASS_START)
            out.append(
                Lesson(
                    id=next(ids),
                    school_id=cadet.school_id,
                    cadet_id=cadet.id,
                    instructor_id=staff.teacher_of_school[cadet.school_id],
                    kind="theory",
                    start=start,
                    end=start + timedelta(minutes=CLASS_MIN),
                    start_place=staff.classroom_of_school[cadet.school_id],
                )
            )
        day += timedelta(days=1)
    return out


def _calendar(
    rng: np.random.Generator,
    instructor: str,
    cadets: list[Cadet],
    sessions: Mapping[str, int],
    staff: Staff,
    ids: Iterator[str],
) -> list[Lesson]:
    """One instructor's driving lessons: each day (not Sundays) up to six of the cadets in
    training come, one lesson each, in consecutive two-hour slots — never two at once."""
    pending = deque(sorted(cadets, key=lambda c: (c.registered_on, c.id)))
    left = {c.id: sessions[c.id] for c in cadets}
    active: list[Cadet] = []
    out: list[Lesson] = []
    ground = staff.ground_of_instructor[instructor]
    day: date = pending[0].registered_on + PRACTICE_AFTER
    while pending or active:
        while pending and pending[0].registered_on + PRACTICE_AFTER <= day:
            active.append(pending.popleft())
        if not active:
            day = pending[0].registered_on + PRACTICE_AFTER
            continue
        if day.weekday() != 6:
            coming = [c for c in active if rng.random() < 0.7][: len(DRIVE_SLOTS)]
            for slot, cadet in zip(DRIVE_SLOTS, coming, strict=False):
                # Clocks and handovers: a lesson logged up to two minutes off its slot, so
                # back-to-back lessons may overlap by a few minutes (the checks' tolerance).
                shift = timedelta(seconds=int(rng.integers(-120, 121)))
                start = datetime.combine(day, time(slot)) + shift
                out.append(
                    Lesson(
                        id=next(ids),
                        school_id=cadet.school_id,
                        cadet_id=cadet.id,
                        instructor_id=instructor,
                        vehicle_id=staff.vehicle_of_instructor[instructor],
                        kind="practice",
                        start=start,
                        end=start + timedelta(minutes=DRIVE_MIN),
                        start_place=jitter(rng, ground, 150),
                        end_place=jitter(rng, ground, 150),
                    )
                )
                left[cadet.id] -= 1
            active = [c for c in active if left[c.id] > 0]
        day += timedelta(days=1)
    return out
