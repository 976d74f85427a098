"""Dates people write in Kazakhstan (UTC+5) — a driving-school inspection's, a helper's
month — are Kazakhstan's, not UTC's or the machine's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kupol.core import messages


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2026, 12, 7, 18, 59, tzinfo=UTC), date(2026, 12, 7)),  # 23:59 in Almaty
        (datetime(2026, 12, 7, 19, 0, tzinfo=UTC), date(2026, 12, 8)),  # midnight in Almaty
        (datetime(2026, 12, 31, 22, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_today_is_kazakhstans_date(
    monkeypatch: pytest.MonkeyPatch, now: datetime, today: date
) -> None:
    monkeypatch.setattr(messages, "utcnow", lambda: now)
    assert messages.kazakhstan_today() == today
