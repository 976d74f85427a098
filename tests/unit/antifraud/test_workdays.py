"""Two working days in Kazakhstan: weekends and public holidays do not count."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kupol.antifraud.workdays import add_working_days, load_holidays


def test_weekends_and_holidays_are_skipped_and_the_deadline_is_the_days_end_in_kazakhstan() -> None:
    holidays = load_holidays()
    assert date(2026, 12, 16) in holidays and date(2026, 3, 22) in holidays
    # Monday 14 Dec 2026, 10:00 in Astana → Wed 16 is Independence Day → Tue 15, Thu 17.
    monday = datetime(2026, 12, 14, 5, 0, tzinfo=UTC)
    assert add_working_days(monday, 2).isoformat() == "2026-12-17T23:59:59+05:00"
    # Friday evening → Monday and Tuesday.
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert add_working_days(friday, 2).date() == date(2026, 12, 8)
    # 23:30 UTC on a Thursday is already Friday in Kazakhstan.
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    assert add_working_days(late, 1).date() == date(2026, 12, 7)
    # Nauryz: Fri 20 March 2026 → Sat–Mon 21–23 are off → Tue 24, Wed 25.
    assert add_working_days(datetime(2026, 3, 20, 6, 0, tzinfo=UTC), 2).date() == date(2026, 3, 25)
