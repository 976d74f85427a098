"""Working days in Kazakhstan: Monday to Friday that are not public holidays (reference data,
``reference/kz-holidays.toml``), for deadlines such as the operators' two-working-day check of
a reported number."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from kupol.core.errors import ConfigError
from kupol.core.messages import KAZAKHSTAN

HOLIDAYS_PATH = Path(__file__).with_name("reference") / "kz-holidays.toml"
KZ = KAZAKHSTAN


@lru_cache(maxsize=4)
def load_holidays(path: Path = HOLIDAYS_PATH) -> frozenset[date]:
    """The public holidays the file lists.

    Raises:
        ConfigError: missing or malformed.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"holidays {path}: {exc}") from exc
    days: set[date] = set()
    for year in data.get("year", []):
        for day in year.get("days", []):
            if not isinstance(day, date) or day.year != year.get("year"):
                raise ConfigError(f"holidays {path}: {day!r} is not a date of {year.get('year')}")
            days.add(day)
    return frozenset(days)


def is_working_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: datetime, days: int, holidays: frozenset[date] | None = None
) -> datetime:
    """The end of the ``days``-th working day after ``start`` (Kazakhstan time): a report
    made on Friday evening with two working days is due at the end of Tuesday.

    Example:
        >>> from datetime import UTC
        >>> friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 20:00 in Almaty
        >>> add_working_days(friday, 2).isoformat()
        '2026-12-08T23:59:59+05:00'
    """
    holidays = load_holidays() if holidays is None else holidays
    day = start.astimezone(KZ).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=KZ)
