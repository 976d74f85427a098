"""Open data on citizens' reports: the counts, the withholding of small counts and of the
figures that would give them back, the periods, and the CSV."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import date

import pytest

from kupol.citizens.open_data import (
    ALL,
    CSV_COLUMNS,
    KINDS,
    MEASURES,
    STATUSES,
    UNKNOWN,
    Breakdown,
    Cell,
    Figures,
    OpenStatistics,
    ReportFact,
    open_statistics,
    period_bounds,
    to_csv,
)
from kupol.core.errors import InvalidInputError

MARCH = (date(2026, 3, 1), date(2026, 4, 1))
CELLS = (*MEASURES, "rewards_paid_tenge")


def fact(
    region: str | None = "02",
    kind: str = "traffic_violation",
    status: str = "confirmed",
    day: date = date(2026, 3, 10),
    reward: int | None = None,
) -> ReportFact:
    return ReportFact(region=region, kind=kind, status=status, submitted_on=day,
                      reward_tenge=reward)  # fmt: skip


def stats_of(facts: list[ReportFact], min_count: int = 5) -> OpenStatistics:
    return open_statistics(facts, start=MARCH[0], end=MARCH[1], min_count=min_count)


def breakdowns(stats: OpenStatistics) -> dict[str | None, Breakdown]:
    return {**{row.region: row for row in stats.regions}, ALL: stats.country}


def values(figures: Figures) -> dict[str, int | None]:
    return {name: getattr(figures, name).value for name in CELLS}


def test_the_vocabularies_are_those_of_the_reports_and_their_review() -> None:
    from kupol.citizens.reports import KINDS as REPORT_KINDS
    from kupol.citizens.review import DECIDED, OPEN

    assert KINDS == REPORT_KINDS
    assert set(STATUSES) == {*OPEN, *DECIDED}


def test_reports_are_counted_by_region_kind_and_outcome() -> None:
    facts = [
        fact(status="submitted"), fact(status="appealed"), fact(status="confirmed", reward=2000),
        fact(status="duplicate"), fact(status="rejected"), fact(kind="fraud_call", reward=500),
        fact(region="05", kind="lost_person", status="rejected"), fact(region=None),
        fact(day=date(2026, 2, 28)), fact(day=date(2026, 4, 1)),  # outside March
    ]  # fmt: skip
    stats = stats_of(facts, min_count=1)  # nothing withheld
    rows = breakdowns(stats)
    assert [row.region for row in stats.regions] == ["02", "05", None]
    almaty = rows["02"]
    assert values(almaty.kinds["traffic_violation"]) == {
        "received": 5, "confirmed": 2, "rejected": 1, "waiting": 2, "rewards_paid_tenge": 2000,
    }  # fmt: skip
    assert almaty.kinds["traffic_violation"].confirmed_share == pytest.approx(2 / 3)
    assert values(almaty.total) == {
        "received": 6, "confirmed": 3, "rejected": 1, "waiting": 2, "rewards_paid_tenge": 2500,
    }  # fmt: skip
    assert almaty.kinds["public_order"].received == Cell(value=0)
    assert almaty.kinds["public_order"].confirmed_share is None  # nothing decided
    assert rows["05"].total.confirmed_share == 0.0
    assert values(rows[None].total)["received"] == 1
    assert values(stats.country.total) == {
        "received": 8, "confirmed": 4, "rejected": 2, "waiting": 2, "rewards_paid_tenge": 2500,
    }  # fmt: skip


@pytest.mark.parametrize(("count", "withheld"), [(0, False), (1, True), (4, True), (5, False),
                                                 (6, False)])  # fmt: skip
def test_counts_from_1_to_4_are_withheld_and_0_or_5_and_more_published(
    count: int, withheld: bool
) -> None:
    others = [fact(kind="public_order")] * 10
    stats = stats_of([fact()] * count + others)
    cell = stats.country.kinds["traffic_violation"].received
    assert cell == (Cell(value=None, suppressed=True) if withheld else Cell(value=count))
    assert stats.country.kinds["lost_person"].received == Cell(value=0)


def test_the_smallest_other_figure_of_a_row_is_withheld_with_a_small_one() -> None:
    facts = ([fact()] * 3 + [fact(kind="public_order")] * 10 + [fact(kind="fraud_call")] * 7
             + [fact(kind="lost_person")] * 8)  # fmt: skip
    stats = stats_of(facts)
    row = stats.country
    received = {kind: figures.received.value for kind, figures in row.kinds.items()}
    # 28 - 10 - 8 would give the 3 back if 7 were published.
    assert received == {"traffic_violation": None, "public_order": 10, "lost_person": 8,
                        "suspicious_object": 0, "fraud_call": None}  # fmt: skip
    assert row.total.received == Cell(value=28)
    assert row.kinds["fraud_call"].received.suppressed
    # received = confirmed + rejected + waiting would give it back too.
    assert row.kinds["fraud_call"].confirmed.suppressed
    assert row.kinds["fraud_call"].confirmed_share is None
    assert_no_figure_can_be_subtracted_back(stats)


def test_a_region_complements_another_regions_small_figure() -> None:
    facts = [fact(region="02")] * 2 + [fact(region="05")] * 9 + [fact(region="09")] * 6
    stats = stats_of(facts)
    by_region = {r.region: r.kinds["traffic_violation"].received.value for r in stats.regions}
    assert by_region == {"02": None, "05": 9, "09": None}
    assert stats.country.kinds["traffic_violation"].received == Cell(value=17)
    assert_no_figure_can_be_subtracted_back(stats)


def test_a_reward_sum_is_published_only_from_5_rewards() -> None:
    almaty_city = [fact(region="02", reward=1000)] * 5
    almaty_region = [fact(region="05", reward=3000)] * 2
    karaganda = [fact(region="09", reward=1100)] * 6 + [fact(region="09", reward=0)] * 9
    facts = almaty_city + almaty_region + karaganda
    stats = stats_of(facts)
    paid = {r.region: r.total.rewards_paid_tenge for r in stats.regions}
    assert paid["05"] == Cell(value=None, suppressed=True)  # two rewards
    assert paid["09"] == Cell(value=6600)  # six rewards (a reward of 0 is none)
    # The country's 17,600 less the others would give Almaty region's 6,000 back: Almaty city's
    # 5,000 (the smaller of the others) is withheld with it.
    assert paid["02"] == Cell(value=None, suppressed=True)
    assert stats.country.total.rewards_paid_tenge == Cell(value=17600)
    assert_no_figure_can_be_subtracted_back(stats)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-03", date(2026, 3, 1), date(2026, 4, 1)),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 4, 1)),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026-H1", date(2026, 1, 1), date(2026, 7, 1)),
        ("2026-H2", date(2026, 7, 1), date(2027, 1, 1)),
    ],
)
def test_periods_are_years_months_quarters_and_halves(period: str, start: date, end: date) -> None:
    assert period_bounds(period) == (start, end)


@pytest.mark.parametrize(
    "period",
    ["", "26", "2026-1", "2026-00", "2026-13", "2026-Q0", "2026-Q5", "2026-H3", "2026-W12",
     "2026/03", "2026-03-01", "March 2026", "9999-H2"],
)  # fmt: skip
def test_other_periods_are_rejected(period: str) -> None:
    with pytest.raises(InvalidInputError):
        period_bounds(period)


def test_facts_and_periods_that_make_no_sense_are_rejected() -> None:
    for bad in ({"region": "21"}, {"kind": "littering"}, {"status": "lost"}, {"reward": -1}):
        with pytest.raises(InvalidInputError):
            fact(**bad)
    with pytest.raises(InvalidInputError):
        open_statistics([], start=MARCH[1], end=MARCH[0])
    with pytest.raises(InvalidInputError):
        open_statistics([], start=MARCH[0], end=MARCH[1], min_count=0)


def test_the_csv_reads_back_as_the_figures() -> None:
    facts = [fact(reward=100)] * 6 + [fact(region=None, kind="fraud_call", status="rejected")] * 2
    stats = stats_of(facts)
    rows = list(csv.DictReader(io.StringIO(to_csv(stats))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == (len(stats.regions) + 1) * (len(KINDS) + 1)
    published = breakdowns(stats)
    for row in rows:
        assert (row["start"], row["end"]) == ("2026-03-01", "2026-04-01")
        region = None if row["region"] == UNKNOWN else row["region"]
        breakdown = published[region]
        figures = breakdown.total if row["kind"] == ALL else breakdown.kinds[row["kind"]]
        for name in CELLS:
            cell: Cell = getattr(figures, name)
            assert row[name] == ("" if cell.value is None else str(cell.value))
        withheld = [name for name in CELLS if getattr(figures, name).suppressed]
        assert row["suppressed"] == ";".join(withheld)
        share = figures.confirmed_share
        assert (float(row["confirmed_share"]) if row["confirmed_share"] else None) == (
            None if share is None else pytest.approx(share, abs=1e-4)
        )
    unknown = next(r for r in rows if r["region"] == UNKNOWN and r["kind"] == "fraud_call")
    assert unknown["received"] == "" and "received" in unknown["suppressed"].split(";")


def figures_of(breakdown: Breakdown, kind: str) -> Figures:
    return breakdown.total if kind == ALL else breakdown.kinds[kind]


def sums(stats: OpenStatistics) -> Iterator[tuple[str, list[Cell]]]:
    """Every sum a reader of the figures can subtract: its total first, then its parts."""
    rows = breakdowns(stats)
    for key, row in rows.items():
        for name in CELLS:
            parts = [getattr(figures, name) for figures in row.kinds.values()]
            yield f"{key} {name} over kinds", [getattr(row.total, name), *parts]
        for kind in [*KINDS, ALL]:
            f = figures_of(row, kind)
            yield f"{key} {kind} over outcomes", [f.received, f.confirmed, f.rejected, f.waiting]
    regions = [row for key, row in rows.items() if key != ALL]
    for kind in [*KINDS, ALL]:
        for name in CELLS:
            cells = [getattr(figures_of(b, kind), name) for b in (stats.country, *regions)]
            yield f"{kind} {name} over regions", cells


def assert_no_figure_can_be_subtracted_back(stats: OpenStatistics) -> None:
    for name, cells in sums(stats):
        assert sum(cell.suppressed for cell in cells) != 1, name


def random_facts(rng: random.Random) -> list[ReportFact]:
    regions = rng.sample(["01", "02", "05", "17", None], rng.randint(1, 5))
    return [
        fact(region=rng.choice(regions), kind=rng.choice(KINDS), status=rng.choice(STATUSES),
             reward=rng.choice([None, 0, rng.randint(1, 50_000)]))
        for _ in range(rng.randint(0, 80))
    ]  # fmt: skip


# A property test over seeded random tables (hypothesis is not among the dependencies).
@pytest.mark.parametrize("seed", range(300))
def test_no_withheld_figure_can_be_subtracted_back_from_published_ones(seed: int) -> None:
    rng = random.Random(seed)
    facts, min_count = random_facts(rng), rng.randint(1, 7)
    stats = stats_of(facts, min_count=min_count)
    truth = breakdowns(stats_of(facts, min_count=1))
    assert_no_figure_can_be_subtracted_back(stats)
    for key, row in breakdowns(stats).items():
        for kind, figures in [*row.kinds.items(), (ALL, row.total)]:
            true = figures_of(truth[key], kind)
            for name in MEASURES:
                cell, count = getattr(figures, name), getattr(true, name).value
                assert cell.suppressed == (cell.value is None)
                assert cell.value in (None, count)  # published figures are the true ones
                assert not (0 < count < min_count) or cell.suppressed
            assert figures.confirmed_share in (None, true.confirmed_share)
