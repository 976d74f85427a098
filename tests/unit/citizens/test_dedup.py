"""De-duplication of citizens' reports: several reports of one event make one case, and only
the earliest valid report in a case earns the reward; different vehicles, places, times or
kinds of offence stay apart."""

from __future__ import annotations

import doctest
import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from kupol.citizens import dedup
from kupol.citizens.dedup import DedupRules, Report, first_valid, group_reports, same_event
from kupol.core.errors import InvalidInputError

AT = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
LAT, LON = 43.2380, 76.9450  # Almaty, Abay avenue
METRES_PER_DEGREE = 111_195.08  # of latitude, on kupol's sphere (core.geo)


def report(
    rid: str,
    *,
    minutes: float = 0,
    north_m: float = 0,
    submitted_min: float | None = None,
    plate: str | None = "777ABC02",
    kind: str = "red_light",
    media_hash: int | None = None,
) -> Report:
    return Report(
        id=rid,
        type=kind,
        occurred_at=AT + timedelta(minutes=minutes),
        submitted_at=AT + timedelta(minutes=minutes if submitted_min is None else submitted_min),
        lat=LAT + north_m / METRES_PER_DEGREE,
        lon=LON,
        plate=plate,
        media_hash=media_hash,
    )


def test_the_examples_in_the_docstring_run() -> None:
    result = doctest.testmod(dedup, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_two_people_reporting_one_red_light_run_make_one_case_and_the_first_is_rewarded() -> None:
    first = report("a", submitted_min=5)
    second = report("b", minutes=2, north_m=80, submitted_min=7, plate="777 авс 02")
    cases = group_reports([second, first])
    assert len(cases) == 1
    case = cases[0]
    assert (case.key, case.report_ids, case.plate, case.type) == (
        "a",
        ("a", "b"),
        "777ABC02",
        "red_light",
    )
    assert first_valid(case, {"a": True, "b": True}) == "a"


def test_the_earliest_submission_wins_even_if_it_filmed_the_event_later() -> None:
    early_event_late_report = report("a", submitted_min=30)
    late_event_early_report = report("b", minutes=1, submitted_min=3)
    case = group_reports([early_event_late_report, late_event_early_report])[0]
    assert case.report_ids == ("b", "a")
    assert first_valid(case, {"a": True, "b": True}) == "b"


def test_a_report_rejected_as_invalid_lets_the_next_valid_one_win() -> None:
    case = group_reports([report("a"), report("b", minutes=1), report("c", minutes=2)])[0]
    assert first_valid(case, {"a": False, "b": True, "c": True}) == "b"
    assert first_valid(case, {"a": False, "b": False, "c": True}) == "c"
    assert first_valid(case, {"a": False, "b": False, "c": False}) is None


def test_no_one_wins_while_an_earlier_report_awaits_review() -> None:
    case = group_reports([report("a"), report("b", minutes=1)])[0]
    assert first_valid(case, {"b": True}) is None
    assert first_valid(case, {}) is None
    assert first_valid(case, {"a": True}) == "a"


def test_reports_submitted_at_the_same_moment_are_ordered_by_id() -> None:
    case = group_reports([report("b", submitted_min=1), report("a", submitted_min=1)])[0]
    assert case.report_ids == ("a", "b")
    assert first_valid(case, {"a": True, "b": True}) == "a"


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (report("b", minutes=2, north_m=80, plate="777ABD02"), "another vehicle"),
        (report("b", minutes=2, north_m=600), "600 m away"),
        (report("b", minutes=11), "11 minutes later"),
        (report("b", minutes=-11), "11 minutes earlier"),
        (report("b", minutes=2, kind="failing_to_yield_to_pedestrian"), "another offence"),
    ],
)
def test_different_plates_places_times_or_offences_are_different_cases(
    other: Report, why: str
) -> None:
    cases = group_reports([report("a"), other])
    assert len(cases) == 2, why
    assert not same_event(report("a"), other)


def test_the_plate_window_and_radius_are_inclusive() -> None:
    assert same_event(report("a"), report("b", minutes=10, north_m=499))
    assert not same_event(report("a"), report("b", minutes=10, north_m=501))


@pytest.mark.parametrize(
    ("other", "same"),
    [
        # The same footage, re-encoded: a few bits of the hash differ.
        (report("b", minutes=2, north_m=90, plate=None, media_hash=0xF0F0_0000_0000_00FF), True),
        # Different footage two minutes apart: two events.
        (report("b", minutes=2, north_m=90, plate=None, media_hash=0x0F0F_FFFF_0000_0000), False),
        # Different footage of the same moment, from across the junction.
        (report("b", minutes=0.4, north_m=25, plate=None, media_hash=0x0F0F_FFFF_0000_0000), True),
        # No hash to compare: only the tight window links.
        (report("b", minutes=0.4, north_m=25, plate=None), True),
        (report("b", minutes=2, north_m=25, plate=None), False),
        # Near-identical footage, but too late or too far for the plate-less rule.
        (report("b", minutes=4, plate=None, media_hash=0xF0F0_0000_0000_00F0), False),
        (report("b", minutes=1, north_m=150, plate=None, media_hash=0xF0F0_0000_0000_00F0), False),
    ],
)
def test_without_a_plate_near_identical_media_or_the_same_moment_link(
    other: Report, same: bool
) -> None:
    plateless = report("a", plate=None, media_hash=0xF0F0_0000_0000_00F0)
    assert same_event(plateless, other) is same
    assert same_event(other, plateless) is same
    assert len(group_reports([plateless, other])) == (1 if same else 2)


def test_a_case_never_joins_two_plates_through_a_report_without_one() -> None:
    x = report("x", plate="777ABC02")
    y = report("y", minutes=0.2, plate="888XYZ02")
    bridge = report("bridge", minutes=0.1, plate=None)
    assert same_event(x, bridge) and same_event(bridge, y) and not same_event(x, y)
    for order in itertools.permutations([x, y, bridge]):
        cases = group_reports(order)
        assert [(c.report_ids, c.plate) for c in cases] == [
            (("x", "bridge"), "777ABC02"),
            (("y",), "888XYZ02"),
        ]


def test_links_chain_into_one_case() -> None:
    chain = [report(f"r{i}", minutes=8 * i, north_m=300 * i) for i in range(4)]
    cases = group_reports(chain)
    assert [c.report_ids for c in cases] == [("r0", "r1", "r2", "r3")]


def test_grouping_does_not_depend_on_the_order_reports_arrive_in() -> None:
    rng = random.Random(7)
    plates = ["777ABC02", "888XYZ02", None]
    reports = [
        report(
            f"r{i:02d}",
            minutes=rng.uniform(0, 40),
            north_m=rng.uniform(0, 800),
            submitted_min=rng.uniform(0, 90),
            plate=rng.choice(plates),
            media_hash=rng.choice([None, rng.getrandbits(64)]),
        )
        for i in range(40)
    ]
    expected = [(c.key, c.report_ids, c.plate) for c in group_reports(reports)]
    assert sorted(i for _, ids, _ in expected for i in ids) == sorted(r.id for r in reports)
    for _ in range(20):
        rng.shuffle(reports)
        assert [(c.key, c.report_ids, c.plate) for c in group_reports(reports)] == expected
    for case in group_reports(reports):
        assert len({r.plate for r in case.reports} - {None}) <= 1


def test_tighter_rules_split_what_the_defaults_join() -> None:
    pair = [report("a"), report("b", minutes=2, north_m=80)]
    assert len(group_reports(pair)) == 1
    assert len(group_reports(pair, DedupRules(plate_radius_m=50))) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: Report(
            id="a",
            type="red_light",
            occurred_at=datetime(2026, 4, 2),
            submitted_at=AT,
            lat=LAT,
            lon=LON,
        ),
        lambda: report("a", media_hash=1 << 64),
        lambda: report("a", media_hash=-1),
        lambda: report("a", north_m=10_000_000),
        lambda: report(""),
        lambda: report("a", kind=""),
        lambda: DedupRules(window=timedelta(minutes=-1)),
        lambda: DedupRules(max_hash_distance=65),
        lambda: DedupRules(radius_m=float("nan")),
        lambda: group_reports([report("a"), report("a", minutes=30)]),
    ],
)
def test_malformed_reports_and_rules_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(InvalidInputError):
        make()


def test_an_empty_plate_counts_as_none() -> None:
    assert report("a", plate=" - ").plate is None
    assert group_reports([]) == []
