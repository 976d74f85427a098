"""Public-order helpers: each rule a shift must keep (and its exact limits), the area's busiest
moment, attended hours within the grace window, the monthly summary, and the recognition a
quarter or year earns from dated rules, never twice."""

from __future__ import annotations

import doctest
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kupol.citizens import helpers_rules
from kupol.citizens.helpers_recognition import DEFAULT_RECOGNITION, AwardKey, load_recognition
from kupol.citizens.helpers_rules import (
    ALMATY,
    Activity,
    ShiftPlan,
    ShiftRecord,
    ShiftRules,
    area_capacity,
    attended_hours,
    check_shift,
    summarise,
)
from kupol.core.errors import ConfigError, ConflictError, InvalidInputError

RULES = ShiftRules()
MONDAY = datetime(2026, 4, 13, 8, tzinfo=ALMATY)  # a Monday, 08:00 local
NOW = MONDAY - timedelta(days=7)
H = timedelta(hours=1)


def plan(
    start: datetime, hours: float, helper: str = "aigerim", area: str = "almaly-3"
) -> ShiftPlan:
    return ShiftPlan(helper=helper, area=area, start=start, end=start + hours * H)


def refusal(new: ShiftPlan, existing: Sequence[ShiftPlan] = (), rules: ShiftRules = RULES) -> str:
    with pytest.raises(InvalidInputError) as caught:
        check_shift(new, existing, rules, now=NOW)
    return f"{caught.value.code}: {caught.value}"


def test_the_examples_in_the_docstrings_run() -> None:
    result = doctest.testmod(helpers_rules, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_a_day_shift_within_every_limit_is_accepted() -> None:
    check_shift(plan(MONDAY, 6), [plan(MONDAY + 2 * 24 * H, 8)], RULES, now=NOW)


def test_a_shift_needs_a_helper_and_an_area() -> None:
    assert refusal(plan(MONDAY, 4, helper=" ")).startswith("incomplete: a shift needs a helper")


def test_a_shift_without_a_time_zone_is_refused() -> None:
    naive = ShiftPlan(helper="a", area="x", start=datetime(2026, 4, 13, 8), end=MONDAY + 4 * H)
    assert refusal(naive) == "naive_time: time 2026-04-13T08:00:00 has no time zone"


def test_a_shift_must_end_after_it_starts() -> None:
    assert refusal(plan(MONDAY, 0)) == (
        "end_before_start: shift 2026-04-13 08:00–08:00 does not end after it starts"
    )


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (1.99, "too_short: shift 2026-04-13 08:00–09:59 lasts 1.99 h, less than 2 h"),
        (8.5, "too_long: shift 2026-04-13 08:00–16:30 lasts 8.5 h, more than 8 h"),
    ],
)
def test_a_shift_too_short_or_too_long_is_refused(hours: float, message: str) -> None:
    assert refusal(plan(MONDAY, hours)) == message


@pytest.mark.parametrize("hours", [2, 8])
def test_a_shift_of_exactly_the_shortest_or_longest_length_is_accepted(hours: float) -> None:
    check_shift(plan(MONDAY, hours), [], RULES, now=NOW)


def test_a_shift_more_than_sixty_days_ahead_is_refused_and_exactly_sixty_is_not() -> None:
    start = NOW + timedelta(days=60)
    check_shift(plan(start, 4), [], RULES, now=NOW)
    assert refusal(plan(start + timedelta(minutes=1), 4)) == (
        "too_far_ahead: shift 2026-06-05 08:01–12:01 starts 60 days ahead; "
        "plan at most 60 days ahead"
    )


@pytest.mark.parametrize(("start_hour", "hours"), [(18, 4.5), (5.5, 3), (23, 2), (20, 8), (1, 2)])
def test_a_shift_in_night_hours_needs_night_work_allowed(start_hour: float, hours: float) -> None:
    night = plan(MONDAY.replace(hour=0) + start_hour * H, hours)
    assert refusal(night).startswith("night: shift 2026-04-1")
    assert "falls in night hours (22:00–06:00 local)" in refusal(night)
    check_shift(night, [], ShiftRules(night_allowed=True), now=NOW)


def test_a_shift_ending_at_22_or_starting_at_06_local_is_not_night_work() -> None:
    check_shift(plan(MONDAY.replace(hour=14), 8), [], RULES, now=NOW)
    check_shift(plan(MONDAY.replace(hour=6), 8), [], RULES, now=NOW)


def test_night_hours_are_local_even_when_the_shift_is_given_in_utc() -> None:
    utc_day = datetime(2026, 4, 13, 14, tzinfo=UTC)  # 19:00 local
    assert refusal(plan(utc_day, 4)).startswith("night: shift 2026-04-13 19:00–23:00")
    check_shift(plan(utc_day.replace(hour=2), 8), [], RULES, now=NOW)  # 07:00–15:00 local


def test_a_shift_overlapping_another_of_the_same_helper_is_refused() -> None:
    existing = [plan(MONDAY + 2 * H, 6)]
    assert refusal(plan(MONDAY, 4), existing) == (
        "overlap: shift 2026-04-13 08:00–12:00 overlaps the helper's shift 2026-04-13 10:00–16:00"
    )
    check_shift(plan(MONDAY, 4, helper="bolat"), existing, RULES, now=NOW)


def test_less_than_eleven_hours_rest_either_side_is_refused() -> None:
    earlier = plan(MONDAY - 19 * H + timedelta(minutes=1), 8)  # 13:01–21:01 the day before
    assert refusal(plan(MONDAY, 4), [earlier]) == (
        "rest: shift 2026-04-13 08:00–12:00 leaves 10.98 h of rest beside "
        "2026-04-12 13:01–21:01; at least 11 h needed"
    )
    later = plan(MONDAY + 14 * H, 4)
    assert "leaves 10 h of rest beside 2026-04-13 22:00–2026-04-14 02:00" in refusal(
        plan(MONDAY, 4), [later], ShiftRules(night_allowed=True)
    )


def test_exactly_eleven_hours_rest_is_enough() -> None:
    before = plan(MONDAY - 19 * H, 8)  # 13:00–21:00 the day before
    after = plan(MONDAY + 8 * H + 11 * H, 4, area="other")  # from 03:00 the next night
    check_shift(plan(MONDAY, 8), [before, after], ShiftRules(night_allowed=True), now=NOW)


def test_more_than_24_hours_in_a_local_iso_week_is_refused_and_exactly_24_is_not() -> None:
    week = [plan(MONDAY + day * 24 * H, 8) for day in (0, 1)]
    check_shift(plan(MONDAY + 2 * 24 * H, 8), week, RULES, now=NOW)
    full = [*week, plan(MONDAY + 2 * 24 * H, 8)]
    assert refusal(plan(MONDAY + 6 * 24 * H, 2), full) == (
        "week_hours: shift 2026-04-19 08:00–10:00 brings week 2026-W16 to 26 h; at most 24 h a week"
    )
    check_shift(plan(MONDAY + 7 * 24 * H, 8), full, RULES, now=NOW)


def test_iso_weeks_are_counted_on_almaty_clocks_not_utc() -> None:
    full = [plan(MONDAY + day * 24 * H, 8) for day in (0, 1, 2)]
    # Sunday 21:00–23:00 UTC is Monday 02:00–04:00 in Almaty: the next week.
    sunday_utc = datetime(2026, 4, 19, 21, tzinfo=UTC)
    check_shift(plan(sunday_utc, 2), full, ShiftRules(night_allowed=True), now=NOW)
    saturday_utc = datetime(2026, 4, 18, 9, tzinfo=UTC)
    assert refusal(plan(saturday_utc, 2), full).startswith("week_hours:")


def test_a_shift_across_local_midnight_counts_its_hours_in_each_week() -> None:
    rules = ShiftRules(night_allowed=True)
    next_week = [plan(MONDAY + day * 24 * H, 8) for day in (8, 9)]  # Tuesday, Wednesday
    next_week.append(plan(MONDAY + 10 * 24 * H, 6))  # 22 h in week 17
    across = plan(datetime(2026, 4, 19, 21, tzinfo=ALMATY), 6)  # Sun 21:00 – Mon 03:00
    assert "week 2026-W17 to 25 h" in refusal(across, next_week, rules)
    check_shift(plan(datetime(2026, 4, 19, 21, tzinfo=ALMATY), 5), next_week, rules, now=NOW)


def test_an_area_with_six_helpers_on_duty_refuses_a_seventh() -> None:
    six = [plan(MONDAY + i * H / 2, 4, helper=f"h{i}") for i in range(6)]
    with pytest.raises(ConflictError) as caught:
        check_shift(plan(MONDAY + 2 * H, 4, helper="new"), six, RULES, now=NOW)
    assert caught.value.code == "area_full"
    assert str(caught.value) == (
        "area almaly-3 already has 6 helpers on duty at 2026-04-13 10:30 (at most 6)"
    )
    check_shift(plan(MONDAY + 2 * H, 4, helper="new", area="other"), six, RULES, now=NOW)
    check_shift(plan(MONDAY, 4, helper="new"), six[:5], RULES, now=NOW)
    check_shift(plan(MONDAY + 5.5 * H, 4, helper="new"), six, RULES, now=NOW)


def test_the_busiest_moment_is_found_by_a_sweep_and_touching_shifts_never_meet() -> None:
    shifts = [
        plan(MONDAY, 4, helper="a"),
        plan(MONDAY + 4 * H, 4, helper="b"),  # starts as a leaves
        plan(MONDAY + 1 * H, 2, helper="c"),
        plan(MONDAY + 2 * H, 4, helper="d"),
        plan(MONDAY, 8, helper="e", area="other"),
    ]
    assert area_capacity("almaly-3", MONDAY, MONDAY + 8 * H, shifts) == 3
    assert area_capacity("almaly-3", MONDAY + 3 * H, MONDAY + 8 * H, shifts) == 2
    assert area_capacity("almaly-3", MONDAY + 8 * H, MONDAY + 9 * H, shifts) == 0
    assert area_capacity("nowhere", MONDAY, MONDAY + 8 * H, shifts) == 0
    twice = [plan(MONDAY, 2, helper="a"), plan(MONDAY + H, 2, helper="a")]
    assert area_capacity("almaly-3", MONDAY, MONDAY + 8 * H, twice) == 1


@pytest.mark.parametrize("seed", range(8))
def test_accepted_shifts_never_overlap_rest_too_little_or_crowd_an_area(seed: int) -> None:
    rng = random.Random(seed)
    rules = ShiftRules(night_allowed=rng.random() < 0.5, max_per_area=3)
    accepted: list[ShiftPlan] = []
    for _ in range(300):
        start = MONDAY + timedelta(minutes=30 * rng.randrange(0, 2 * 24 * 21))
        candidate = plan(
            start, rng.choice([1.5, 2, 4, 6, 8, 9]), f"h{rng.randrange(6)}", f"a{rng.randrange(2)}"
        )
        try:
            check_shift(candidate, accepted, rules, now=NOW)
        except (InvalidInputError, ConflictError):
            continue
        accepted.append(candidate)
    assert len(accepted) > 10
    for a in accepted:
        assert 2 * H <= a.end - a.start <= 8 * H
        for b in accepted:
            if a is not b and a.helper == b.helper:
                assert max(b.start - a.end, a.start - b.end) >= 11 * H
        assert area_capacity(a.area, a.start, a.end, accepted) <= 3


def record(
    checked_in: float | None,
    checked_out: float | None,
    status: str = "attended",
    *,
    start: datetime = MONDAY,
    helper: str = "aigerim",
) -> ShiftRecord:
    return ShiftRecord(
        helper=helper,
        area="almaly-3",
        start=start,
        end=start + 4 * H,
        checked_in=None if checked_in is None else start + checked_in * H,
        checked_out=None if checked_out is None else start + checked_out * H,
        status=status,
    )


@pytest.mark.parametrize(
    ("checked_in", "checked_out", "hours"),
    [
        (0, 4, 4.0),
        (-0.5, 5, 5.5),  # exactly at both edges of the grace window
        (-3, 9, 5.5),  # clamped to 30 min early and 60 min late
        (0.25, 3.5, 3.25),
        (-3, -1, 0.0),  # checked out before the window opened
    ],
)
def test_attended_hours_are_clamped_to_the_grace_window(
    checked_in: float, checked_out: float, hours: float
) -> None:
    assert attended_hours(record(checked_in, checked_out)) == pytest.approx(hours)


def test_no_hours_without_a_check_out_or_for_a_shift_not_attended() -> None:
    assert attended_hours(record(0, None)) == 0.0
    assert attended_hours(record(0, 4, status="no_show")) == 0.0


def test_a_record_with_an_unknown_status_or_backward_times_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        record(0, 4, status="late")
    assert (caught.value.code, str(caught.value)) == ("status", "unknown shift status 'late'")
    with pytest.raises(InvalidInputError) as caught:
        record(-1, -2)
    assert caught.value.code == "check_out_first"
    with pytest.raises(InvalidInputError) as caught:
        ShiftRecord(
            helper="a", area="x", start=MONDAY, end=MONDAY + H, checked_in=datetime(2026, 4, 13, 8)
        )
    assert caught.value.code == "naive_time"


def test_a_month_summary_counts_shifts_hours_reports_and_reliability_per_helper() -> None:
    may_first_local = datetime(2026, 4, 30, 20, tzinfo=UTC)  # 01:00 on 1 May in Almaty
    records = [
        record(0, 4, start=MONDAY),
        record(0.1, 3.5, start=MONDAY + 24 * H),
        record(None, None, "no_show", start=MONDAY + 48 * H),
        record(None, None, "cancelled", start=MONDAY + 72 * H),
        record(None, None, "planned", start=MONDAY + 96 * H),
        record(0, 4, start=may_first_local),
        record(0, 2, helper="bolat"),
    ]
    april = summarise(records, date(2026, 4, 20), {"aigerim": 3, "dana": 1, "erlan": 0})
    assert [a.helper for a in april] == ["aigerim", "bolat", "dana"]
    aigerim, bolat, dana = april
    assert aigerim == Activity(
        helper="aigerim",
        month=date(2026, 4, 1),
        planned=5,
        attended=2,
        no_shows=1,
        cancelled=1,
        hours=7.4,
        reports_confirmed=3,
    )
    assert aigerim.reliability == pytest.approx(2 / 3)
    assert (bolat.hours, bolat.reliability, bolat.reports_confirmed) == (2.0, 1.0, 0)
    assert (dana.planned, dana.reliability, dana.reports_confirmed) == (0, None, 1)
    assert [a.planned for a in summarise(records, date(2026, 5, 1))] == [1]


def month(
    m: int, hours: float, attended: int = 10, no_shows: int = 0, reports: int = 0, year: int = 2026
) -> Activity:
    return Activity(
        helper="aigerim",
        month=date(year, m, 1),
        planned=attended + no_shows,
        attended=attended,
        no_shows=no_shows,
        cancelled=0,
        hours=hours,
        reports_confirmed=reports,
    )


RECOGNITION = load_recognition()
AFTER_Q2 = date(2026, 7, 1)


def levels(activities: list[Activity], on: date = AFTER_Q2) -> list[tuple[str, str]]:
    return [(r.level, r.period) for r in RECOGNITION.earned(activities, on=on)]


def test_the_shipped_recognition_rules_load_and_say_they_are_placeholders() -> None:
    assert DEFAULT_RECOGNITION.exists()
    version = RECOGNITION.version_on(date(2026, 3, 1))
    assert version is not None and "ПРОВЕРИТЬ" in version.source
    assert [lv.name for lv in version.level] == ["thanks_letter", "badge", "reward"]
    assert RECOGNITION.mci_tenge[2026] == 4_325
    assert RECOGNITION.version_on(date(2026, 2, 28)) is None


def test_a_thanks_letter_needs_20_hours_and_reliability_0_8_in_the_quarter() -> None:
    # 6.7 + 6.7 + 6.6 is not exactly 20.0 in floating point; hours are rounded to 0.1.
    at_limit = [month(4, 6.7, 4, 1), month(5, 6.7, 4, 1), month(6, 6.6, 4, 1)]
    (letter,) = RECOGNITION.earned(at_limit, on=AFTER_Q2)
    assert (letter.level, letter.period, letter.hours, letter.reliability) == (
        "thanks_letter",
        "2026-Q2",
        20.0,
        0.8,
    )
    assert letter.reason == "20 h attended in 2026-Q2 (needs 20), reliability 0.80 (needs 0.8)"
    assert letter.amount_tenge is None and letter.amount_mci is None
    assert levels([month(4, 6.7, 4, 1), month(5, 6.7, 4, 1), month(6, 6.5, 4, 1)]) == []
    assert levels([month(4, 30, 3, 1)]) == []  # reliability 0.75


def test_a_quarter_counts_only_once_it_is_over() -> None:
    q2 = [month(4, 30)]
    assert levels(q2, on=date(2026, 6, 30)) == []
    assert levels(q2, on=AFTER_Q2) == [("thanks_letter", "2026-Q2")]
    assert levels([month(12, 30)], on=date(2026, 12, 31)) == []


def test_a_badge_needs_100_hours_and_5_confirmed_reports_in_the_year() -> None:
    year = [month(m, 25, reports=1) for m in range(1, 5)] + [month(5, 0.0, 0, reports=1)]
    assert ("badge", "2026") in levels(year, on=date(2027, 1, 1))
    four_reports = [month(m, 25, reports=1) for m in range(1, 5)]
    assert ("badge", "2026") not in levels(four_reports, on=date(2027, 1, 1))
    short = [*year[:3], month(4, 24.9, reports=2)]
    assert ("badge", "2026") not in levels(short, on=date(2027, 1, 1))


TWO_VERSIONS = """
[mci_tenge]
2026 = 4_325
2027 = 4_500

[[version]]
since = 2026-03-01
until = 2026-12-31
source = "first"
[[version.level]]
name = "reward"
per = "year"
min_hours = 200
min_reliability = 0.9
amount_mci = 10

[[version]]
since = 2027-01-01
source = "second"
[[version.level]]
name = "reward"
per = "year"
min_hours = 250
amount_mci = 12
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recognition.toml"
    path.write_text(text, encoding="utf-8")
    return path


ONE_VERSION = TWO_VERSIONS.split("[[version]]\nsince = 2027")[0].replace("until = 2026-12-31\n", "")


def test_a_reward_is_paid_in_mci_at_the_value_of_the_year_it_is_awarded(tmp_path: Path) -> None:
    rules = load_recognition(write(tmp_path, ONE_VERSION))
    year = [month(m, 20, 9, 1) for m in range(1, 11)]  # 200 h, reliability 0.9
    (reward,) = rules.earned(year, on=date(2027, 1, 2))
    assert (reward.level, reward.period, reward.amount_mci, reward.amount_tenge) == (
        "reward",
        "2026",
        10,
        10 * 4_500,
    )
    assert reward.reason == ("200 h attended in 2026 (needs 200), reliability 0.90 (needs 0.9)")
    below = [month(m, 20, 9, 1) for m in range(1, 10)] + [month(10, 19.9, 9, 1)]
    assert rules.earned(below, on=date(2027, 1, 2)) == []
    unreliable = [month(m, 20, 8, 1) for m in range(1, 11)]  # reliability 0.89
    assert rules.earned(unreliable, on=date(2027, 1, 2)) == []


def test_the_version_in_force_on_the_award_day_sets_the_thresholds(tmp_path: Path) -> None:
    rules = load_recognition(write(tmp_path, TWO_VERSIONS))
    year_2026 = [month(m, 25, 9, 1) for m in range(1, 11)]  # 250 h
    q_only = [month(m, 21, 9, 1, year=2027) for m in range(1, 11)]  # 210 h
    assert rules.earned(q_only, on=date(2028, 1, 1)) == []
    (reward,) = rules.earned(year_2026, on=date(2027, 1, 1))
    assert (reward.source, reward.amount_tenge) == ("second", 12 * 4_500)
    assert rules.version_on(date(2026, 12, 31)) is not None
    assert rules.earned(year_2026, on=date(2026, 2, 1)) == []


def test_a_missing_mci_value_for_the_award_year_is_a_config_error() -> None:
    year = [month(m, 20, 9, 1) for m in range(1, 11)]
    with pytest.raises(ConfigError, match="no MCI"):
        RECOGNITION.earned(year, on=date(2027, 1, 5))


def test_a_level_is_never_awarded_twice_for_the_same_period() -> None:
    activities = [month(4, 30), month(7, 30)]
    first = RECOGNITION.earned(activities, on=AFTER_Q2)
    assert [r.key for r in first] == [
        AwardKey(helper="aigerim", level="thanks_letter", period="2026-Q2")
    ]
    later = RECOGNITION.earned(activities, on=date(2026, 10, 1), already={r.key for r in first})
    assert [(r.level, r.period) for r in later] == [("thanks_letter", "2026-Q3")]


def test_two_activities_for_the_same_helper_and_month_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="two activities of aigerim for 2026-04"):
        RECOGNITION.earned([month(4, 10), month(4, 12)], on=AFTER_Q2)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("min_hours = 200", "min_hours = 200\ncolour = 'gold'"), "Extra inputs"),
        (("min_hours = 250", "min_hours = -1"), "greater than or equal to 0"),
        (("since = 2027-01-01", "since = 2026-12-01"), "versions overlap"),
        (("since = 2027-01-01", "since = 2026-03-01"), "versions overlap"),
        (("2027 = 4_500", "2027 = 0"), "greater than 0"),
        (("min_reliability = 0.9", "min_reliability = 1.5"), "less than or equal to 1"),
    ],
)
def test_recognition_rules_that_are_wrong_are_refused(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_recognition(write(tmp_path, TWO_VERSIONS.replace(*change, 1)))


def test_a_missing_or_broken_recognition_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="recognition rules"):
        load_recognition(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_recognition(write(tmp_path, "[[version]\n"))
