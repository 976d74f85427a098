"""The synthetic region's injected lesson-log fraud (part of ``generator``): phantom lessons
logged over real ones, lessons logged at night, and lessons logged from the other end of the
country minutes after a lesson at home.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import numpy as np

from kupol.schools.generator_lessons import DRIVE_MIN, jitter
from kupol.schools.model import Lesson, Place


def phantom_lessons(
    rng: np.random.Generator,
    *,
    lessons: Sequence[Lesson],
    cadet_ids: Sequence[str],
    count: int,
    ids: Iterator[str],
) -> list[Lesson]:
    """``count`` lessons that never happened: each logged for another of the instructor's
    cadets, in the same car, half an hour to an hour into a real lesson."""
    practice = [x for x in lessons if x.kind == "practice"]
    chosen = rng.choice(len(practice), size=min(count, len(practice)), replace=False)
    out: list[Lesson] = []
    for index in sorted(int(i) for i in chosen):
        real = practice[index]
        others = [c for c in cadet_ids if c != real.cadet_id] or [real.cadet_id]
        start = real.start + timedelta(minutes=int(rng.integers(30, 61)))
        out.append(
            Lesson(
                id=next(ids),
                school_id=real.school_id,
                cadet_id=str(rng.choice(others)),
                instructor_id=real.instructor_id,
                vehicle_id=real.vehicle_id,
                kind="practice",
                start=start,
                end=start + timedelta(minutes=DRIVE_MIN),
                start_place=jitter(rng, real.start_place, 150),
                end_place=jitter(rng, real.finish_place, 150),
            )
        )
    return out


def night_lessons(
    rng: np.random.Generator, *, lessons: Sequence[Lesson], count: int, ids: Iterator[str]
) -> list[Lesson]:
    """``count`` lessons logged from 23:00 to 00:30, on days the instructor worked, for one
    of that day's cadets, in the same car and place."""
    days = _last_of_each_day(lessons)
    chosen = rng.choice(len(days), size=min(count, len(days)), replace=False)
    out: list[Lesson] = []
    for index in sorted(int(i) for i in chosen):
        last = days[index]
        start = last.start.replace(hour=23, minute=0)
        out.append(
            Lesson(
                id=next(ids),
                school_id=last.school_id,
                cadet_id=last.cadet_id,
                instructor_id=last.instructor_id,
                vehicle_id=last.vehicle_id,
                kind="practice",
                start=start,
                end=start + timedelta(minutes=90),
                start_place=jitter(rng, last.finish_place, 150),
                end_place=jitter(rng, last.finish_place, 150),
            )
        )
    return out


def teleport_lessons(
    rng: np.random.Generator,
    *,
    lessons: Sequence[Lesson],
    far: Place,
    count: int,
    ids: Iterator[str],
) -> list[Lesson]:
    """``count`` lessons logged at ``far`` (another city) a quarter of an hour after the
    day's last lesson at home, in the same car."""
    days = _last_of_each_day(lessons)
    chosen = rng.choice(len(days), size=min(count, len(days)), replace=False)
    out: list[Lesson] = []
    for index in sorted(int(i) for i in chosen):
        last = days[index]
        start = last.end + timedelta(minutes=15)
        out.append(
            Lesson(
                id=next(ids),
                school_id=last.school_id,
                cadet_id=last.cadet_id,
                instructor_id=last.instructor_id,
                vehicle_id=last.vehicle_id,
                kind="practice",
                start=start,
                end=start + timedelta(minutes=90),
                start_place=jitter(rng, far, 500),
                end_place=jitter(rng, far, 500),
            )
        )
    return out


def _last_of_each_day(lessons: Sequence[Lesson]) -> list[Lesson]:
    """The day's last practice lesson, for each day with any, in date order."""
    last: dict[date, Lesson] = {}
    for lesson in lessons:
        if lesson.kind != "practice":
            continue
        day = lesson.start.date()
        if day not in last or lesson.end > last[day].end:
            last[day] = lesson
    return [last[d] for d in sorted(last)]
