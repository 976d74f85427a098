"""A synthetic region of driving schools with KNOWN injected fraud, to measure the quality
scores and anomaly detectors against the truth.

Half the schools are in Almaty, half in Astana, each with its own state examiners. Every
school has a latent quality (and every instructor a share of it) that drives its cadets'
skill, hence their exam results and, once licensed, their violations and accidents. On top,
distinct schools are chosen (by the seed) for each injected fraud:

- ``phantom``: two instructors log lessons that overlap their real ones, in the same car;
- ``short_hours``: most cadets get a fraction of the required hours and still sit the exams;
- ``inflated_internal``: the school's own exam passes almost everyone (a weak school);
- ``state_outlier``: its cadets pass the state exam far more often than skill explains;
- ``night``: an instructor logs lessons around midnight;
- ``teleport``: an instructor logs lessons in the other city fifteen minutes after one at home;
- ``lucky``: a small school whose eight cadets pass every exam at the first attempt and have a
  clean record — it must get ``insufficient_data``, not the top rank;

and one state examiner passes almost every candidate at the practice exam. The inflated and
the state-outlier schools are mid-sized (90 and 70 cadets): on a school of 50, a gap of 25
points between its own and the state exam cannot be told from chance.

Example:
    >>> region = generate_region(seed=1, config=GeneratorConfig(schools=12))
    >>> len(region.data.schools), region.truth.roles[region.truth.lucky_school_id]
    (12, 'lucky')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from kupol.core.errors import InvalidInputError
from kupol.schools import generator_fraud as fraud
from kupol.schools.generator_exams import (
    Examining,
    Overrides,
    complaints,
    graduate_records,
    take_exams,
)
from kupol.schools.generator_lessons import lesson_ids, schedule_lessons
from kupol.schools.generator_registry import CITIES, Draft, Sizing, add_school, staff_of
from kupol.schools.hours import TrainingProgrammes, load_training_hours
from kupol.schools.model import Examiner, Lesson, Snapshot

ROLES = (
    "phantom",
    "phantom",
    "short_hours",
    "short_hours",
    "inflated_internal",
    "state_outlier",
    "night",
    "teleport",
    "lucky",
)
TruthKey = tuple[str, str, str]


@dataclass(frozen=True, kw_only=True)
class GeneratorConfig:
    """The size and date of the synthetic region."""

    schools: int = 40
    examiners_per_region: int = 8
    median_cadets: int = 60
    cadets_per_instructor: int = 25
    as_of: date = date(2025, 12, 31)
    years: int = 3


@dataclass(frozen=True, kw_only=True)
class GroundTruth:
    """What was injected: the (flag kind, subject kind, subject id) a perfect detector
    raises, each fraud school's role, the lucky school, and every school's latent quality."""

    expected: frozenset[TruthKey]
    roles: Mapping[str, str]
    lucky_school_id: str
    school_quality: Mapping[str, float]


@dataclass(frozen=True, kw_only=True)
class SyntheticRegion:
    """The generated registry snapshot and the truth about it."""

    data: Snapshot
    truth: GroundTruth


def generate_region(
    *,
    seed: int = 0,
    config: GeneratorConfig | None = None,
    programmes: TrainingProgrammes | None = None,
) -> SyntheticRegion:
    """A seeded synthetic region (same seed, same region) and its ground truth.

    Raises:
        InvalidInputError: Fewer than 12 schools (each fraud needs its own school, and each
            city enough ordinary schools to compare with).
    """
    config = config or GeneratorConfig()
    if config.schools < 12:
        raise InvalidInputError("a synthetic region needs at least 12 schools")
    programmes = programmes or load_training_hours()
    rng = np.random.default_rng(seed)
    ids = [f"S{i + 1:02d}" for i in range(config.schools)]
    roles = dict(zip((str(s) for s in rng.permutation(ids)), ROLES, strict=False))
    draft = Draft()
    sizing = Sizing(
        median_cadets=config.median_cadets,
        cadets_per_instructor=config.cadets_per_instructor,
        as_of=config.as_of,
        years=config.years,
    )
    for index, school_id in enumerate(ids):
        city = "Almaty" if index < config.schools // 2 else "Astana"
        add_school(
            rng, draft, sizing=sizing, school_id=school_id, city=city, role=roles.get(school_id)
        )
    short = {
        c.id: (
            float(rng.uniform(0.4, 0.8)) if rng.random() < 0.5 else 1.0,
            float(rng.uniform(0.4, 0.75)),
        )
        for c in draft.cadets
        if roles.get(c.school_id) == "short_hours" and rng.random() < 0.7
    }
    staff = staff_of(rng, draft)
    lesson_id = lesson_ids()
    lessons = schedule_lessons(
        rng, cadets=draft.cadets, staff=staff, programmes=programmes, factors=short, ids=lesson_id
    )
    trained_by: dict[str, date] = {}
    for lesson in lessons:
        day = lesson.end.date()
        trained_by[lesson.cadet_id] = max(trained_by.get(lesson.cadet_id, day), day)
    expected: set[TruthKey] = set()
    lessons += _inject_lessons(rng, draft, roles, lessons, lesson_id, expected)
    examiners = [
        Examiner(id=f"{city[:3].upper()}-X{i + 1}", region=city, name=f"Examiner {city} {i + 1}")
        for city in CITIES
        for i in range(config.examiners_per_region)
    ]
    corrupt = examiners[int(rng.integers(0, len(examiners)))].id
    expected.add(("examiner_outlier", "examiner", corrupt))
    skill = {
        c.id: draft.quality[c.school_id]
        + draft.quality[c.instructor_id or ""]
        + float(rng.normal(0.0, 0.8))
        - (0.4 if c.id in short else 0.0)
        for c in draft.cadets
    }
    by_role = {role: school for school, role in roles.items()}
    exams, licensed = take_exams(
        rng,
        cadets=draft.cadets,
        skill=skill,
        trained_by=trained_by,
        examining=Examining(
            examiners_of_region={c: [e.id for e in examiners if e.region == c] for c in CITIES},
            region_of_school={s.id: s.region for s in draft.schools},
            leniency={e.id: float(rng.normal(0.0, 0.1)) for e in examiners},
        ),
        overrides=Overrides(
            internal_pass={by_role["inflated_internal"]: 0.99},
            state_pass={by_role["state_outlier"]: (0.97, 0.9)},
            examiner_pass={corrupt: 0.97},
            lucky_schools=frozenset({by_role["lucky"]}),
        ),
        as_of=config.as_of,
    )
    expected.add(("internal_exam_inflated", "school", by_role["inflated_internal"]))
    expected.add(("state_pass_outlier", "school", by_role["state_outlier"]))
    passed_state = {e.cadet_id for e in exams if e.stage == "state" and e.passed}
    expected |= {("missing_hours", "cadet", c) for c in short if c in passed_state}
    cadets = [
        replace(c, licence_no=f"KZ{index:08d}") if c.id in licensed else c
        for index, c in enumerate(draft.cadets, start=1)
    ]
    data = Snapshot(
        as_of=config.as_of,
        schools=tuple(draft.schools),
        branches=tuple(draft.branches),
        instructors=tuple(draft.instructors),
        vehicles=tuple(draft.vehicles),
        examiners=tuple(examiners),
        cadets=tuple(cadets),
        lessons=tuple(lessons),
        exams=tuple(exams),
        graduates=tuple(
            graduate_records(
                rng,
                cadets=cadets,
                licensed=licensed,
                quality={
                    c.id: draft.quality[c.school_id] + draft.quality[c.instructor_id or ""]
                    for c in cadets
                },
                spotless=frozenset({by_role["lucky"]}),
                as_of=config.as_of,
            )
        ),
        complaints=tuple(
            complaints(
                rng,
                cadets_of_school={
                    s.id: sum(c.school_id == s.id for c in cadets) for s in draft.schools
                },
                instructors_of_school=draft.drivers,
                quality=draft.quality,
                since=config.as_of - timedelta(days=365 * config.years),
                as_of=config.as_of,
            )
        ),
    )
    truth = GroundTruth(
        expected=frozenset(expected),
        roles=roles,
        lucky_school_id=by_role["lucky"],
        school_quality={s.id: draft.quality[s.id] for s in draft.schools},
    )
    return SyntheticRegion(data=data, truth=truth)


def _inject_lessons(
    rng: np.random.Generator,
    draft: Draft,
    roles: Mapping[str, str],
    lessons: list[Lesson],
    ids: Iterator[str],
    expected: set[TruthKey],
) -> list[Lesson]:
    """The injected lesson-log fraud, with what a perfect detector would flag for it."""
    by_instructor: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        by_instructor.setdefault(lesson.instructor_id, []).append(lesson)
    cadets_of: dict[str, list[str]] = {}
    for cadet in draft.cadets:
        cadets_of.setdefault(cadet.instructor_id or "", []).append(cadet.id)
    out: list[Lesson] = []
    for school, role in sorted(roles.items()):
        drivers = [d for d in draft.drivers[school] if len(cadets_of.get(d, [])) >= 2]
        city = next(s.region for s in draft.schools if s.id == school)
        if not drivers:
            continue
        if role == "phantom":
            for instructor in drivers[:2]:
                out += fraud.phantom_lessons(
                    rng,
                    lessons=by_instructor[instructor],
                    cadet_ids=cadets_of[instructor],
                    count=12,
                    ids=ids,
                )
                expected.add(("overlapping_lessons", "instructor", instructor))
                expected.add(("overlapping_lessons", "vehicle", instructor.replace("-I", "-V")))
        elif role == "night":
            out += fraud.night_lessons(rng, lessons=by_instructor[drivers[0]], count=8, ids=ids)
            expected.add(("night_lesson", "instructor", drivers[0]))
        elif role == "teleport":
            far = next(p for c, p in CITIES.items() if c != city)
            out += fraud.teleport_lessons(
                rng, lessons=by_instructor[drivers[0]], far=far, count=4, ids=ids
            )
            expected.add(("impossible_travel", "instructor", drivers[0]))
            expected.add(("impossible_travel", "vehicle", drivers[0].replace("-I", "-V")))
    return out
