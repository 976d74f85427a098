"""Checks of the lesson log for lessons that cannot have happened as logged: one instructor or
one vehicle in two practice lessons at once, consecutive lessons too far apart for the time
between them, and lessons outside the hours lessons may be given.

Each check returns one flag per subject (instructor or vehicle) with how many lessons are
implausible and examples an inspector can look up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import time, timedelta

from kupol.core.geo import haversine_m
from kupol.schools.model import Flag, Lesson, Severity, SubjectKind

EXAMPLES = 5


def overlapping_lessons(
    *, lessons: Sequence[Lesson], tolerance_min: float = 5.0, min_pairs: int = 1
) -> tuple[Flag, ...]:
    """Flag instructors and vehicles logged in two practice lessons at the same time.

    Two lessons overlap when one starts more than ``tolerance_min`` minutes before the other
    ends (a few minutes' slack for handing the car over). Theory lessons are left out: a class
    is many cadets with one teacher at once.

    Example:
        >>> from datetime import datetime
        >>> def lesson(i, hour):
        ...     return Lesson(id=i, school_id="s", cadet_id=i, instructor_id="in1",
        ...         vehicle_id="v1", kind="practice", start=datetime(2025, 3, 3, hour),
        ...         end=datetime(2025, 3, 3, hour + 2), start_place=(43.2, 76.9))
        >>> [(f.subject_kind, f.subject_id) for f in overlapping_lessons(
        ...     lessons=[lesson("a", 10), lesson("b", 11)])]
        [('instructor', 'in1'), ('vehicle', 'v1')]
    """
    tolerance = timedelta(minutes=tolerance_min)
    flags: list[Flag] = []
    for (kind, subject), own in _by_subject(lessons, practice_only=True).items():
        pairs: list[tuple[Lesson, Lesson]] = []
        latest = own[0]
        for lesson in own[1:]:
            if lesson.start < latest.end - tolerance:
                pairs.append((latest, lesson))
            if lesson.end > latest.end:
                latest = lesson
        if len(pairs) < min_pairs:
            continue
        minutes = sum((min(a.end, b.end) - b.start).total_seconds() / 60 for a, b in pairs)
        flags.append(
            Flag(
                kind="overlapping_lessons",
                subject_kind=kind,
                subject_id=subject,
                school_id=own[0].school_id,
                severity=_by_count(len(pairs), medium=3, high=10),
                reason=(
                    f"{kind} {subject} is logged in {len(pairs)} pairs of practice lessons at "
                    f"the same time ({minutes:.0f} min in all, of {len(own)} lessons); one "
                    f"{kind} cannot be in two lessons at once"
                ),
                evidence={
                    "pairs": len(pairs),
                    "practice_lessons": len(own),
                    "overlap_minutes": round(minutes, 1),
                    "examples": tuple(f"{a.id}/{b.id}" for a, b in pairs[:EXAMPLES]),
                },
            )
        )
    return tuple(flags)


def impossible_travel(
    *,
    lessons: Sequence[Lesson],
    max_speed_kmh: float = 110.0,
    slack_km: float = 2.0,
    tolerance_min: float = 5.0,
) -> tuple[Flag, ...]:
    """Flag instructors and vehicles whose consecutive lessons are too far apart for the gap.

    From where one lesson ended to where the next started, the distance (haversine) over the
    time between them must not need more than ``max_speed_kmh``; distances up to ``slack_km``
    are GPS error and a short drive. Overlapping lessons are ``overlapping_lessons``' business.

    Example:
        >>> from datetime import datetime
        >>> def lesson(i, hour, place):
        ...     return Lesson(id=i, school_id="s", cadet_id=i, instructor_id="in1",
        ...         kind="practice", start=datetime(2025, 3, 3, hour),
        ...         end=datetime(2025, 3, 3, hour + 1), start_place=place)
        >>> almaty, astana = (43.238, 76.889), (51.169, 71.449)
        >>> [f.subject_id for f in impossible_travel(
        ...     lessons=[lesson("a", 10, almaty), lesson("b", 12, astana)])]
        ['in1']
    """
    tolerance = timedelta(minutes=tolerance_min)
    flags: list[Flag] = []
    for (kind, subject), own in _by_subject(lessons, practice_only=False).items():
        jumps: list[tuple[Lesson, Lesson, float, float]] = []
        previous = own[0]
        for lesson in own[1:]:
            if lesson.start >= previous.end - tolerance:
                km = haversine_m(previous.finish_place, lesson.start_place) / 1000
                hours = max((lesson.start - previous.end).total_seconds(), 0.0) / 3600
                if km > slack_km and (hours == 0 or km / hours > max_speed_kmh):
                    jumps.append((previous, lesson, km, hours * 60))
            if lesson.end > previous.end:
                previous = lesson
        if not jumps:
            continue
        worst = max(jumps, key=lambda j: j[2] / max(j[3], 1.0))
        flags.append(
            Flag(
                kind="impossible_travel",
                subject_kind=kind,
                subject_id=subject,
                school_id=own[0].school_id,
                severity="high" if len(jumps) >= 3 or worst[2] >= 50 else "medium",
                reason=(
                    f"{kind} {subject} has {len(jumps)} consecutive lessons too far apart for "
                    f"the time between them; worst {worst[2]:.1f} km in {worst[3]:.0f} min "
                    f"(lessons {worst[0].id} and {worst[1].id}), over {max_speed_kmh:g} km/h"
                ),
                evidence={
                    "jumps": len(jumps),
                    "lessons": len(own),
                    "worst_km": round(worst[2], 2),
                    "worst_gap_min": round(worst[3], 1),
                    "max_speed_kmh": max_speed_kmh,
                    "examples": tuple(f"{a.id}/{b.id}" for a, b, _, _ in jumps[:EXAMPLES]),
                },
            )
        )
    return tuple(flags)


def night_lessons(
    *, lessons: Sequence[Lesson], earliest: time = time(7), latest: time = time(22)
) -> tuple[Flag, ...]:
    """Flag instructors who log lessons outside ``earliest``–``latest`` (local time).

    The default hours are an assumption of this check (a deployment sets the rule in force);
    winter evenings before ``latest`` are dark enough for the programme's night driving.

    Example:
        >>> from datetime import datetime
        >>> late = Lesson(id="l1", school_id="s", cadet_id="c", instructor_id="in1",
        ...     kind="practice", start=datetime(2025, 3, 3, 23), end=datetime(2025, 3, 4, 0, 30),
        ...     start_place=(43.2, 76.9))
        >>> [f.evidence["night_lessons"] for f in night_lessons(lessons=[late])]
        [1]
    """
    flags: list[Flag] = []
    for (_, subject), own in _by_subject(lessons, practice_only=False, vehicles=False).items():
        night = [
            lesson
            for lesson in own
            if lesson.start.time() < earliest
            or lesson.end.date() != lesson.start.date()
            or lesson.end.time() > latest
        ]
        if not night:
            continue
        flags.append(
            Flag(
                kind="night_lesson",
                subject_kind="instructor",
                subject_id=subject,
                school_id=own[0].school_id,
                severity=_by_count(len(night), medium=2, high=5),
                reason=(
                    f"instructor {subject} logged {len(night)} of {len(own)} lessons outside "
                    f"{earliest:%H:%M}–{latest:%H:%M}, e.g. {night[0].id} at "
                    f"{night[0].start:%Y-%m-%d %H:%M}"
                ),
                evidence={
                    "night_lessons": len(night),
                    "lessons": len(own),
                    "earliest": f"{earliest:%H:%M}",
                    "latest": f"{latest:%H:%M}",
                    "examples": tuple(lesson.id for lesson in night[:EXAMPLES]),
                },
            )
        )
    return tuple(flags)


def _by_subject(
    lessons: Iterable[Lesson], *, practice_only: bool, vehicles: bool = True
) -> dict[tuple[SubjectKind, str], list[Lesson]]:
    """Lessons by instructor and by vehicle, each list sorted by start."""
    groups: dict[tuple[SubjectKind, str], list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        if practice_only and lesson.kind != "practice":
            continue
        groups["instructor", lesson.instructor_id].append(lesson)
        if vehicles and lesson.vehicle_id is not None:
            groups["vehicle", lesson.vehicle_id].append(lesson)
    for own in groups.values():
        own.sort(key=lambda lesson: (lesson.start, lesson.end, lesson.id))
    return dict(sorted(groups.items()))


def _by_count(count: int, *, medium: int, high: int) -> Severity:
    return "high" if count >= high else "medium" if count >= medium else "low"
