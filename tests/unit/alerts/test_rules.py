"""Alert rules: which events they match, with times judged in the rule's local time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from kupol.alerts.rules import CompiledRule, EventFacts
from kupol.alerts.schemas import AlertRuleCreate

ALMATY = ZoneInfo("Asia/Almaty")
# Monday 5 January 2026, 12:00 in Almaty.
MONDAY_NOON = datetime(2026, 1, 5, 12, 0, tzinfo=ALMATY)


def rule(**fields: Any) -> CompiledRule:
    values: dict[str, Any] = {
        "id": 1,
        "name": "r",
        "severity": "high",
        "event_types": frozenset(),
        "camera_ids": frozenset(),
        "zones": frozenset(),
        "min_confidence": 0.0,
        "window": None,
        "weekdays": frozenset(),
        "tz": ALMATY,
        "cooldown_s": 60,
    }
    values.update(fields)
    return CompiledRule(**values)


def facts(**fields: Any) -> EventFacts:
    values: dict[str, Any] = {
        "type": "motion",
        "camera_id": "cam-a",
        "zone": "road",
        "confidence": 0.8,
        "occurred_at": MONDAY_NOON,
    }
    values.update(fields)
    return EventFacts(**values)


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    """A moment in Almaty, handed to the rule in UTC as events arrive."""
    return datetime(2026, 1, day, hour, minute, tzinfo=ALMATY).astimezone(UTC)


def test_an_empty_rule_matches_every_event() -> None:
    assert rule().matches(facts())


@pytest.mark.parametrize(
    ("conditions", "event", "expected"),
    [
        ({"event_types": frozenset({"motion"})}, {}, True),
        ({"event_types": frozenset({"person", "vehicle"})}, {}, False),
        ({"camera_ids": frozenset({"cam-a"})}, {}, True),
        ({"camera_ids": frozenset({"cam-b"})}, {}, False),
        ({"zones": frozenset({"road"})}, {}, True),
        ({"zones": frozenset({"sidewalk"})}, {}, False),
        ({"zones": frozenset({"road"})}, {"zone": None}, False),
        ({"min_confidence": 0.8}, {}, True),
        ({"min_confidence": 0.81}, {}, False),
    ],
)
def test_each_condition_must_hold(
    conditions: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    assert rule(**conditions).matches(facts(**event)) is expected


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (8, 59, False),
        (9, 0, True),
        (12, 0, True),
        (17, 59, True),
        (18, 0, False),
    ],
)
def test_a_day_window_includes_its_start_and_excludes_its_end(
    hour: int, minute: int, expected: bool
) -> None:
    day = rule(window=(time(9), time(18)))

    assert day.matches(facts(occurred_at=at(hour, minute))) is expected


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (21, 59, False),
        (22, 0, True),
        (23, 30, True),
        (0, 0, True),
        (3, 15, True),
        (5, 59, True),
        (6, 0, False),
        (12, 0, False),
    ],
)
def test_a_night_window_wraps_midnight_in_almaty_time(
    hour: int, minute: int, expected: bool
) -> None:
    night = rule(window=(time(22), time(6)))

    assert night.matches(facts(occurred_at=at(hour, minute))) is expected


def test_the_window_is_judged_in_local_time_not_utc() -> None:
    night = rule(window=(time(22), time(6)))
    # 23:30 in Almaty is 18:30 UTC: inside the night window, although not at night in UTC.
    late = datetime(2026, 1, 5, 23, 30, tzinfo=ALMATY)

    assert late.astimezone(UTC).hour == 18
    assert night.matches(facts(occurred_at=late.astimezone(UTC)))
    assert not rule(window=(time(22), time(6)), tz=ZoneInfo("UTC")).matches(
        facts(occurred_at=late.astimezone(UTC))
    )


def test_weekdays_are_those_of_the_local_date() -> None:
    mondays = rule(weekdays=frozenset({1}))
    # Monday 01:00 in Almaty is still Sunday evening in UTC.
    early_monday = at(1, 0, day=5)

    assert early_monday.isoweekday() == 7
    assert mondays.matches(facts(occurred_at=early_monday))
    assert not mondays.matches(facts(occurred_at=at(23, 0, day=4)))  # Sunday


def test_weekdays_and_window_together_use_the_day_the_event_happened_on() -> None:
    weekend_nights = rule(weekdays=frozenset({6, 7}), window=(time(22), time(6)))

    assert weekend_nights.matches(facts(occurred_at=at(23, 0, day=10)))  # Saturday 23:00
    assert weekend_nights.matches(facts(occurred_at=at(2, 0, day=11)))  # Sunday 02:00
    assert not weekend_nights.matches(facts(occurred_at=at(2, 0, day=12)))  # Monday 02:00
    assert not weekend_nights.matches(facts(occurred_at=at(23, 0, day=9)))  # Friday 23:00


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"active_from": "22:00"}, "both active_from and active_to"),
        ({"active_from": "24:00", "active_to": "06:00"}, "HH:MM"),
        ({"active_from": "9:00", "active_to": "18:00"}, "HH:MM"),
        ({"weekdays": [0]}, "weekdays"),
        ({"weekdays": [8]}, "weekdays"),
        ({"timezone": "Asia/Nowhere"}, "Asia/Nowhere"),
        ({"min_confidence": 1.2}, "min_confidence"),
        ({"cooldown_s": -1}, "cooldown_s"),
        ({"severity": "apocalyptic"}, "severity"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_problem(
    fields: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        AlertRuleCreate(name="r", **fields)

    assert fragment in str(caught.value)


def test_weekdays_are_kept_sorted_and_once() -> None:
    assert AlertRuleCreate(name="r", weekdays=[7, 1, 7]).weekdays == [1, 7]
