"""The synthetic region's registry (part of ``generator``): schools with their branches,
teacher, instructors and training cars, and cadets, each school and instructor with a latent
quality.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from kupol.schools.generator_lessons import Staff, jitter
from kupol.schools.model import Branch, Cadet, Category, Instructor, Place, School, Vehicle

CITIES: Mapping[str, Place] = {"Almaty": (43.2389, 76.8897), "Astana": (51.1694, 71.4491)}
INSTRUCTOR_CATEGORIES: tuple[Category, ...] = ("B", "A", "C", "BE")
INSTRUCTOR_CATEGORY_SHARES = (0.80, 0.08, 0.08, 0.04)
SIZES: Mapping[str, int] = {"lucky": 8, "state_outlier": 70, "inflated_internal": 90}
QUALITIES: Mapping[str, float] = {"inflated_internal": -0.4, "lucky": 0.0}


@dataclass(frozen=True, kw_only=True)
class Sizing:
    """How big schools are and over which years their cadets registered."""

    median_cadets: int
    cadets_per_instructor: int
    as_of: date
    years: int


@dataclass(kw_only=True)
class Draft:
    """The registry being generated, with every school's and instructor's latent quality
    and each school's driving instructors."""

    schools: list[School] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)
    instructors: list[Instructor] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    cadets: list[Cadet] = field(default_factory=list)
    quality: dict[str, float] = field(default_factory=dict)
    drivers: dict[str, list[str]] = field(default_factory=dict)


def add_school(
    rng: np.random.Generator,
    draft: Draft,
    *,
    sizing: Sizing,
    school_id: str,
    city: str,
    role: str | None,
) -> None:
    """One school: its branches, teacher, instructors with their cars, and cadets."""
    size = int(np.clip(round(sizing.median_cadets * rng.lognormal(0.0, 0.5)), 15, 140))
    size = SIZES.get(role or "", size)
    quality = float(rng.normal(0.0, 0.45))
    draft.quality[school_id] = QUALITIES.get(role or "", quality)
    categories: set[Category] = {"B"}
    draft.schools.append(
        School(
            id=school_id,
            name=f"{city} driving school {school_id}",
            region=city,
            licence_no=f"ДО-{int(rng.integers(10**5, 10**6))}",
            registered_on=sizing.as_of - timedelta(days=int(rng.integers(4 * 365, 15 * 365))),
        )
    )
    for b in range(1 + int(rng.integers(0, 3))):
        place = jitter(rng, CITIES[city], 5000)
        draft.branches.append(
            Branch(id=f"{school_id}-B{b + 1}", school_id=school_id, address=f"{city}", place=place)
        )
    draft.instructors.append(
        Instructor(id=f"{school_id}-T", school_id=school_id, name=f"Teacher {school_id}")
    )
    drivers = 1 if role == "lucky" else max(2, math.ceil(size / sizing.cadets_per_instructor))
    draft.drivers[school_id] = []
    for i in range(drivers):
        category: Category = "B"
        if i > 0:
            pick = rng.choice(len(INSTRUCTOR_CATEGORIES), p=INSTRUCTOR_CATEGORY_SHARES)
            category = INSTRUCTOR_CATEGORIES[int(pick)]
        categories.add(category)
        instructor_id = f"{school_id}-I{i + 1}"
        draft.quality[instructor_id] = float(rng.normal(0.0, 0.25))
        draft.drivers[school_id].append(instructor_id)
        draft.instructors.append(
            Instructor(
                id=instructor_id,
                school_id=school_id,
                name=f"Instructor {instructor_id}",
                categories=(category,),
            )
        )
        draft.vehicles.append(
            Vehicle(
                id=f"{school_id}-V{i + 1}",
                school_id=school_id,
                plate=f"{int(rng.integers(100, 1000))}ABC{i + 1:02d}",
                category=category,
            )
        )
    draft.schools[-1] = replace(draft.schools[-1], categories=tuple(sorted(categories)))
    earliest = 900 if role == "lucky" else 365 * sizing.years
    latest = 400 if role == "lucky" else 150
    cars = draft.vehicles[-drivers:]  # this school's, one per instructor, in their order
    for c in range(size):
        index = int(rng.integers(0, drivers))
        draft.cadets.append(
            Cadet(
                id=f"{school_id}-C{c + 1:03d}",
                school_id=school_id,
                category=cars[index].category,
                registered_on=sizing.as_of - timedelta(days=int(rng.integers(latest, earliest))),
                instructor_id=draft.drivers[school_id][index],
            )
        )


def staff_of(rng: np.random.Generator, draft: Draft) -> Staff:
    """Who teaches whom where: each school's teacher in its first branch, each instructor
    with their own car at one of the school's branches."""
    branches: dict[str, list[Branch]] = {}
    for branch in draft.branches:
        branches.setdefault(branch.school_id, []).append(branch)
    ground: dict[str, Place] = {}
    for school, drivers in draft.drivers.items():
        for instructor in drivers:
            ground[instructor] = branches[school][int(rng.integers(0, len(branches[school])))].place
    return Staff(
        teacher_of_school={s.id: f"{s.id}-T" for s in draft.schools},
        classroom_of_school={s: b[0].place for s, b in branches.items()},
        vehicle_of_instructor={i: i.replace("-I", "-V") for i in ground},
        ground_of_instructor=ground,
    )
