"""What a device may submit as an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from kupol.events.schemas import CameraEventIn


def event(**fields: Any) -> dict[str, Any]:
    return {
        "camera_id": "cam-test-01",
        "type": "motion",
        "confidence": 0.7,
        "occurred_at": "2026-01-05T20:00:00+05:00",
        **fields,
    }


def error_for(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        CameraEventIn.model_validate(event(**fields))
    return str(caught.value)


def test_times_are_kept_in_utc() -> None:
    parsed = CameraEventIn.model_validate(event())

    assert parsed.occurred_at == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert parsed.occurred_at.utcoffset() == timedelta(0)


def test_a_time_without_a_zone_is_refused() -> None:
    assert "needs a time zone" in error_for(occurred_at="2026-01-05T20:00:00")


def test_a_time_far_in_the_future_is_refused_but_small_clock_skew_is_not() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=2)
    later = datetime.now(UTC) + timedelta(minutes=10)

    CameraEventIn.model_validate(event(occurred_at=soon.isoformat()))
    assert "in the future" in error_for(occurred_at=later.isoformat())


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"type": "Motion!"}, "type"),
        ({"confidence": 1.5}, "confidence"),
        ({"camera_id": "../etc"}, "camera_id"),
        ({"payload": {"blob": "x" * 70_000}}, "64 kB"),
        ({"evidence": [{"kind": "snapshot", "uri": "a.jpg", "sha256": "abc"}]}, "sha256"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_events_are_refused_naming_the_problem(
    fields: dict[str, Any], fragment: str
) -> None:
    assert fragment in error_for(**fields)
