"""Required training hours by licence category and date, from a dated TOML table
(``reference/kz-training-hours.toml``, or a deployment's own copy), and the hours a cadet's
logged lessons add up to in the programme's units.

Example:
    >>> from datetime import date
    >>> programmes = load_training_hours()
    >>> need = programmes.required("B", on=date(2025, 3, 1))
    >>> need.theory_hours, need.practice_hours
    (90.0, 40.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kupol.core.errors import InvalidInputError
from kupol.core.reference import load_rules
from kupol.schools.model import CATEGORIES, Lesson

DEFAULT_HOURS = Path(__file__).with_name("reference") / "kz-training-hours.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CategoryHours(_Frozen):
    """A category's required hours of theory and of practice, in the programme's hours."""

    theory: float = Field(ge=0)
    practice: float = Field(ge=0)


class Programme(_Frozen):
    """The standard programme in force from ``start`` until the next one starts."""

    start: date = Field(alias="from", description="First day the programme applies.")
    source: str = Field(min_length=1, description="The act that sets the hours.")
    theory_hour_min: float = Field(gt=0, description="Minutes in one hour of theory.")
    practice_hour_min: float = Field(gt=0, description="Minutes in one hour of practice.")
    hours: dict[str, CategoryHours] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_categories(self) -> Self:
        unknown = sorted(set(self.hours) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown} (known: {', '.join(CATEGORIES)})")
        return self


@dataclass(frozen=True, kw_only=True)
class RequiredHours:
    """What a category's programme requires, and in which units it counts."""

    category: str
    theory_hours: float
    practice_hours: float
    theory_hour_min: float
    practice_hour_min: float
    programme_from: date
    source: str


@dataclass(frozen=True, kw_only=True)
class LoggedHours:
    """The hours a cadet's logged lessons add up to, in the programme's units."""

    theory_hours: float
    practice_hours: float


class TrainingProgrammes(_Frozen):
    """The standard programmes, oldest first."""

    programme: tuple[Programme, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        starts = [p.start for p in self.programme]
        if starts != sorted(set(starts)):
            raise ValueError("programmes must be listed oldest first, one per start date")
        return self

    def required(self, category: str, *, on: date) -> RequiredHours:
        """The hours required of a cadet of ``category`` who registered ``on`` that day.

        Raises:
            InvalidInputError: No programme was in force then, or it has no such category.
        """
        known = [p for p in self.programme if p.start <= on]
        if not known:
            raise InvalidInputError(
                f"no training programme is known for {on.isoformat()}", code="no_programme"
            )
        programme = known[-1]
        hours = programme.hours.get(category)
        if hours is None:
            raise InvalidInputError(
                f"the programme from {programme.start.isoformat()} has no category {category!r}",
                code="unknown_category",
            )
        return RequiredHours(
            category=category,
            theory_hours=hours.theory,
            practice_hours=hours.practice,
            theory_hour_min=programme.theory_hour_min,
            practice_hour_min=programme.practice_hour_min,
            programme_from=programme.start,
            source=programme.source,
        )


def logged_hours(lessons: Iterable[Lesson], required: RequiredHours) -> LoggedHours:
    """Sum ``lessons``' logged minutes into the programme's theory and practice hours.

    Example:
        >>> from datetime import datetime
        >>> need = load_training_hours().required("B", on=date(2025, 1, 1))
        >>> lesson = Lesson(id="l1", school_id="s", cadet_id="c", instructor_id="i",
        ...     kind="theory", start=datetime(2025, 1, 6, 18, 30),
        ...     end=datetime(2025, 1, 6, 21, 30), start_place=(43.2, 76.9))
        >>> logged_hours([lesson], need).theory_hours
        4.0
    """
    theory = practice = 0.0
    for lesson in lessons:
        if lesson.kind == "theory":
            theory += lesson.minutes
        else:
            practice += lesson.minutes
    return LoggedHours(
        theory_hours=theory / required.theory_hour_min,
        practice_hours=practice / required.practice_hour_min,
    )


def load_training_hours(path: Path | None = None) -> TrainingProgrammes:
    """The training programmes from ``path`` (TOML), or the table kupol ships.

    Raises:
        ConfigError: The file is missing, is not TOML, or does not describe valid programmes;
            the message names the file and every problem.
    """
    return load_rules(path or DEFAULT_HOURS, TrainingProgrammes, "training hours", root="table")
