"""Required training hours: the shipped table, dated programmes, and logged hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from kupol.core.errors import ConfigError, InvalidInputError
from kupol.schools.hours import DEFAULT_HOURS, load_training_hours, logged_hours
from tests.unit.schools.builders import MONDAY, lesson

TWO_PROGRAMMES = """
[[programme]]
from = 2020-01-01
source = "old"
theory_hour_min = 45
practice_hour_min = 60
[programme.hours]
B = { theory = 90, practice = 40 }

[[programme]]
from = 2026-01-01
source = "new"
theory_hour_min = 45
practice_hour_min = 60
[programme.hours]
B = { theory = 100, practice = 56 }
"""


def test_the_shipped_table_says_where_it_comes_from_and_that_it_must_be_checked() -> None:
    text = DEFAULT_HOURS.read_text(encoding="utf-8")
    assert "source" in text and "MUST be checked" in text
    need = load_training_hours().required("B", on=date(2025, 6, 1))
    assert (need.theory_hours, need.practice_hours) == (90.0, 40.0)
    assert need.source


def test_a_cadet_is_held_to_the_programme_in_force_when_they_registered(tmp_path: Path) -> None:
    path = tmp_path / "hours.toml"
    path.write_text(TWO_PROGRAMMES, encoding="utf-8")
    programmes = load_training_hours(path)
    assert programmes.required("B", on=date(2025, 12, 31)).practice_hours == 40
    assert programmes.required("B", on=date(2026, 1, 1)).practice_hours == 56
    assert programmes.required("B", on=date(2026, 1, 1)).source == "new"


def test_a_date_before_any_programme_or_an_unknown_category_is_refused() -> None:
    programmes = load_training_hours()
    with pytest.raises(InvalidInputError, match="no training programme"):
        programmes.required("B", on=date(2019, 12, 31))
    with pytest.raises(InvalidInputError):
        programmes.required("Tm", on=date(2025, 1, 1))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[programme", "not valid TOML"),
        (TWO_PROGRAMMES.replace("B = { theory = 100", "Z = { theory = 100"), "unknown categ"),
        (TWO_PROGRAMMES.replace("2026-01-01", "2019-01-01"), "oldest first"),
        (TWO_PROGRAMMES.replace("practice = 40", "practice = -1"), "greater than or equal"),
    ],
)
def test_a_broken_table_names_the_file_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "hours.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as caught:
        load_training_hours(path)
    assert str(path) in str(caught.value)


def test_a_missing_table_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_training_hours(tmp_path / "absent.toml")


def test_logged_minutes_count_in_the_programmes_hours() -> None:
    need = load_training_hours().required("B", on=date(2025, 1, 1))
    lessons = [
        lesson(start=MONDAY, minutes=180, kind="theory"),  # 4 academic hours of 45 min
        lesson(start=MONDAY + timedelta(days=1), minutes=120),  # 2 hours at the wheel
        lesson(start=datetime(2025, 3, 5, 10), minutes=90),
    ]
    got = logged_hours(lessons, need)
    assert got.theory_hours == 4.0
    assert got.practice_hours == 3.5
