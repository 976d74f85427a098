"""Public-order helpers (внештатные помощники полиции): the rules for planning their patrol
shifts, their monthly activity, and the recognition (thanks letter, badge, reward) it earns.

Pure values and functions; another module stores them. Months, ISO weeks and night hours are
counted on the local clock of Asia/Almaty (UTC+5 since 2024). The recognition thresholds are
dated data (``reference/kz-helper-recognition.toml``, or a deployment's own copy).

Example:
    >>> day = datetime(2026, 4, 10, 9, tzinfo=ALMATY)
    >>> plan = ShiftPlan(helper="h1", area="almaly-3", start=day, end=day.replace(hour=15))
    >>> check_shift(plan, [], ShiftRules(), now=day - timedelta(days=3))  # accepted
    >>> late = ShiftPlan(helper="h1", area="almaly-3", start=day.replace(hour=18),
    ...                  end=day.replace(hour=23))
    >>> check_shift(late, [], ShiftRules(), now=day)
    Traceback (most recent call last):
    kupol.core.errors.InvalidInputError: shift 2026-04-10 18:00–23:00 falls in night hours ...
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from kupol.core.errors import ConfigError, ConflictError, InvalidInputError
from kupol.core.messages import KAZAKHSTAN

ALMATY = KAZAKHSTAN
CHECK_IN_EARLY = timedelta(minutes=30)
"""How long before a shift's start a check-in already counts."""
CHECK_OUT_LATE = timedelta(minutes=60)
"""How long after a shift's end a check-out still counts."""
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, kw_only=True)
class ShiftRules:
    """Limits on one helper's shifts and on how many helpers patrol one area at once."""

    min_hours: float = 2
    max_hours: float = 8
    max_days_ahead: int = 60
    min_rest_hours: float = 11
    max_hours_per_week: float = 24
    max_per_area: int = 6
    night_allowed: bool = False
    night_from: time = time(22)
    night_until: time = time(6)

    def __post_init__(self) -> None:
        if not 0 < self.min_hours <= self.max_hours <= self.max_hours_per_week:
            raise ConfigError("shift rules need 0 < min_hours <= max_hours <= max_hours_per_week")
        if self.max_days_ahead < 0 or self.min_rest_hours < 0 or self.max_per_area < 1:
            raise ConfigError(
                "shift rules need max_days_ahead, min_rest_hours >= 0, max_per_area >= 1"
            )


@dataclass(frozen=True, kw_only=True)
class ShiftPlan:
    """A planned patrol shift of one helper in one area, ``start`` to ``end`` (time-zone aware)."""

    helper: str
    area: str
    start: datetime
    end: datetime


def check_shift(
    new: ShiftPlan,
    existing: Sequence[ShiftPlan],
    rules: ShiftRules,
    *,
    now: datetime | None = None,
) -> None:
    """Refuse ``new`` unless it fits the rules beside the ``existing`` (not cancelled) shifts.

    Pass every active shift of the helper and of the area, without the shift being changed.
    Exactly-at-limit values (11 h rest, 24 h a week, 60 days ahead, 22:00 end) are allowed.

    Raises:
        InvalidInputError: The shift itself or the helper's schedule breaks a rule; the message
            says which, and ``code`` names it (``naive_time``, ``too_long``, ``rest`` …).
        ConflictError: The area already has ``max_per_area`` helpers at some moment of it.
    """
    if not new.helper.strip() or not new.area.strip():
        raise InvalidInputError("a shift needs a helper and an area", code="incomplete")
    _check_aware(new.start, new.end, *(t for s in existing for t in (s.start, s.end)))
    # In UTC: aware datetimes sharing one tzinfo compare and subtract by wall clock.
    new = replace(new, start=new.start.astimezone(UTC), end=new.end.astimezone(UTC))
    if new.end <= new.start:
        raise InvalidInputError(
            f"shift {_span(new)} does not end after it starts", code="end_before_start"
        )
    length = new.end - new.start
    if length < rules.min_hours * _HOUR:
        raise _refuse(
            f"shift {_span(new)} lasts {_h(length)}, less than {rules.min_hours:g} h", "too_short"
        )
    if length > rules.max_hours * _HOUR:
        raise _refuse(
            f"shift {_span(new)} lasts {_h(length)}, more than {rules.max_hours:g} h", "too_long"
        )
    ahead = new.start - (now or datetime.now(UTC))
    if ahead > timedelta(days=rules.max_days_ahead):
        raise _refuse(
            f"shift {_span(new)} starts {ahead.days} days ahead; plan at most "
            f"{rules.max_days_ahead} days ahead",
            "too_far_ahead",
        )
    if not rules.night_allowed and _touches_night(new, rules):
        raise _refuse(
            f"shift {_span(new)} falls in night hours ({rules.night_from:%H:%M}–"
            f"{rules.night_until:%H:%M} local), which this helper may not work",
            "night",
        )
    mine = [
        replace(s, start=s.start.astimezone(UTC), end=s.end.astimezone(UTC))
        for s in existing
        if s.helper == new.helper
    ]
    for other in mine:
        if other.start < new.end and new.start < other.end:
            raise _refuse(
                f"shift {_span(new)} overlaps the helper's shift {_span(other)}", "overlap"
            )
    for other in mine:
        rest = max(other.start - new.end, new.start - other.end)
        if rest < rules.min_rest_hours * _HOUR:
            raise _refuse(
                f"shift {_span(new)} leaves {_h(rest)} of rest beside {_span(other)}; "
                f"at least {rules.min_rest_hours:g} h needed",
                "rest",
            )
    for monday in sorted({_monday(new.start), _monday(new.end - timedelta(microseconds=1))}):
        week = (monday, monday + timedelta(days=7))
        total = sum((_clip(s.start, s.end, *week) for s in [*mine, new]), timedelta())
        if total > rules.max_hours_per_week * _HOUR:
            iso = monday.astimezone(ALMATY).isocalendar()
            raise _refuse(
                f"shift {_span(new)} brings week {iso.year}-W{iso.week:02d} to {_h(total)}; "
                f"at most {rules.max_hours_per_week:g} h a week",
                "week_hours",
            )
    on_duty, when = _busiest(new.area, new.start, new.end, existing)
    if on_duty >= rules.max_per_area and when is not None:
        raise ConflictError(
            f"area {new.area} already has {on_duty} helpers on duty at {_local(when)} "
            f"(at most {rules.max_per_area})",
            code="area_full",
        )


def area_capacity(area: str, start: datetime, end: datetime, existing: Sequence[ShiftPlan]) -> int:
    """How many helpers are on duty in ``area`` at the busiest moment of ``start``–``end``.

    Shifts are half-open: one ending at 14:00 and one starting at 14:00 never meet.

    Example:
        >>> t = datetime(2026, 4, 10, 9, tzinfo=ALMATY)
        >>> a = ShiftPlan(helper="a", area="x", start=t, end=t + timedelta(hours=4))
        >>> b = ShiftPlan(helper="b", area="x", start=a.end, end=a.end + timedelta(hours=4))
        >>> area_capacity("x", t, t + timedelta(hours=12), [a, b])
        1
    """
    _check_aware(start, end)
    return _busiest(area, start, end, existing)[0]


class ShiftStatus(StrEnum):
    """What became of a shift."""

    PLANNED = "planned"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True)
class ShiftRecord:
    """A shift with what happened: check-in and check-out times (aware) and its status."""

    helper: str
    area: str
    start: datetime
    end: datetime
    checked_in: datetime | None = None
    checked_out: datetime | None = None
    status: str = ShiftStatus.PLANNED

    def __post_init__(self) -> None:
        if self.status not in set(ShiftStatus):
            raise InvalidInputError(f"unknown shift status {self.status!r}", code="status")
        _check_aware(self.start, self.end, self.checked_in, self.checked_out)
        if self.checked_in and self.checked_out and self.checked_out < self.checked_in:
            raise InvalidInputError("checked out before checking in", code="check_out_first")


def attended_hours(record: ShiftRecord) -> float:
    """Hours on duty: check-in to check-out within the shift, 30 min early to 60 min late.

    Zero unless the shift is ``attended`` with both a check-in and a check-out.

    Example:
        >>> t = datetime(2026, 4, 10, 9, tzinfo=ALMATY)
        >>> attended_hours(ShiftRecord(helper="a", area="x", start=t, end=t + 4 * _HOUR,
        ...     checked_in=t - 2 * _HOUR, checked_out=t + 6 * _HOUR, status="attended"))
        5.5
    """
    if record.status != ShiftStatus.ATTENDED or not (record.checked_in and record.checked_out):
        return 0.0
    lo, hi = record.start - CHECK_IN_EARLY, record.end + CHECK_OUT_LATE
    return _clip(record.checked_in, record.checked_out, lo, hi) / _HOUR


@dataclass(frozen=True, kw_only=True)
class Activity:
    """One helper's activity in one calendar month (``month`` is its first day).

    ``planned`` counts every shift of the month, whatever became of it.
    """

    helper: str
    month: date
    planned: int
    attended: int
    no_shows: int
    cancelled: int
    hours: float
    reports_confirmed: int

    @property
    def reliability(self) -> float | None:
        """Attended shifts out of those attended or missed; ``None`` when there were none."""
        return reliability_of(self.attended, self.no_shows)


def summarise(
    records: Sequence[ShiftRecord],
    month: date,
    reports_confirmed: Mapping[str, int] | None = None,
) -> list[Activity]:
    """Each helper's activity in ``month`` (shifts that start in it, local time), by helper.

    Args:
        records: Shift records; those of other months are ignored.
        month: Any day of the month.
        reports_confirmed: Reports an officer confirmed that month, by helper.
    """
    first = month.replace(day=1)
    reports = dict(reports_confirmed or {})
    if any(n < 0 for n in reports.values()):
        raise InvalidInputError("confirmed reports cannot be negative", code="negative")
    mine: defaultdict[str, list[ShiftRecord]] = defaultdict(list)
    for r in records:
        if r.start.astimezone(ALMATY).date().replace(day=1) == first:
            mine[r.helper].append(r)
    helpers = sorted(set(mine) | {h for h, n in reports.items() if n})
    result = []
    for helper in helpers:
        count = Counter(r.status for r in mine[helper])
        hours = round(sum(attended_hours(r) for r in mine[helper]), 1)
        result.append(
            Activity(
                helper=helper,
                month=first,
                planned=len(mine[helper]),
                attended=count[ShiftStatus.ATTENDED],
                no_shows=count[ShiftStatus.NO_SHOW],
                cancelled=count[ShiftStatus.CANCELLED],
                hours=hours,
                reports_confirmed=reports.get(helper, 0),
            )
        )
    return result


def _check_aware(*moments: datetime | None) -> None:
    for m in moments:
        if m is not None and m.utcoffset() is None:
            raise InvalidInputError(f"time {m.isoformat()} has no time zone", code="naive_time")


def _refuse(message: str, code: str) -> InvalidInputError:
    return InvalidInputError(message, code=code)


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> timedelta:
    s, e = (
        max(start.astimezone(UTC), lo.astimezone(UTC)),
        min(end.astimezone(UTC), hi.astimezone(UTC)),
    )
    return max(e - s, timedelta())


def _monday(moment: datetime) -> datetime:
    day = moment.astimezone(ALMATY).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(), ALMATY)


def _touches_night(plan: ShiftPlan, rules: ShiftRules) -> bool:
    first = plan.start.astimezone(ALMATY).date() - timedelta(days=1)
    for offset in range((plan.end.astimezone(ALMATY).date() - first).days + 1):
        day = first + timedelta(days=offset)
        night_end = day + timedelta(days=1) if rules.night_until <= rules.night_from else day
        lo = datetime.combine(day, rules.night_from, ALMATY)
        hi = datetime.combine(night_end, rules.night_until, ALMATY)
        if _clip(plan.start, plan.end, lo, hi):
            return True
    return False


def _busiest(
    area: str, start: datetime, end: datetime, existing: Sequence[ShiftPlan]
) -> tuple[int, datetime | None]:
    events: list[tuple[datetime, int, str]] = []
    for s in existing:
        lo = max(s.start.astimezone(UTC), start.astimezone(UTC))
        hi = min(s.end.astimezone(UTC), end.astimezone(UTC))
        if s.area == area and lo < hi:
            events += [(lo, 1, s.helper), (hi, -1, s.helper)]
    events.sort(key=lambda e: (e[0], e[1]))  # a shift ending at t leaves before one starting at t
    shifts: Counter[str] = Counter()  # a helper counts once, however many shifts they hold
    on_duty, best, when = 0, 0, None
    for at, step, helper in events:
        shifts[helper] += step
        if shifts[helper] == (1 if step > 0 else 0):
            on_duty += step
        if on_duty > best:
            best, when = on_duty, at
    return best, when


def reliability_of(attended: int, no_shows: int) -> float | None:
    return attended / (attended + no_shows) if attended + no_shows else None


def _h(span: timedelta) -> str:
    return f"{round(span / _HOUR, 2):g} h"


def _local(moment: datetime) -> str:
    return moment.astimezone(ALMATY).strftime("%Y-%m-%d %H:%M")


def _span(plan: ShiftPlan) -> str:
    start, end = plan.start.astimezone(ALMATY), plan.end.astimezone(ALMATY)
    return (
        f"{_local(start)}–{end:%H:%M}"
        if start.date() == end.date()
        else f"{_local(start)}–{_local(end)}"
    )
