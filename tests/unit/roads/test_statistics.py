"""The statistics' arithmetic: exact Poisson intervals, the Poisson trend, the crime report
parser and the region table."""

from __future__ import annotations

import io
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from kupol.core.errors import ConfigError, InvalidInputError, NotFoundError
from kupol.roads.crime import parse_report
from kupol.roads.regions import load_regions
from kupol.roads.stats import poisson_interval, poisson_trend


@pytest.mark.parametrize(
    ("count", "low", "high"),
    # Published exact 95 % limits for a Poisson count (e.g. Garwood 1936; the tables in
    # Breslow & Day 1987, appendix II).
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.623, 11.668), (10, 4.795, 18.390),
     (50, 37.111, 65.919)],
)  # fmt: skip
def test_exact_poisson_intervals_match_the_published_tables(
    count: int, low: float, high: float
) -> None:
    interval = poisson_interval(count)
    assert interval.low == pytest.approx(low, abs=2e-3)
    assert interval.high == pytest.approx(high, abs=2e-3)


def test_the_trend_finds_a_known_decline_and_its_interval_covers_it() -> None:
    rng = np.random.default_rng(3)
    years = list(range(2014, 2024))
    truth = -0.08  # 8 % fewer a year
    covered = 0
    for _ in range(200):
        counts = [rng.poisson(400 * math.exp(math.log(1 + truth) * (y - 2014))) for y in years]
        slope, se, _ = poisson_trend(years, counts)
        covered += slope - 1.96 * se <= math.log(1 + truth) <= slope + 1.96 * se
    assert 0.9 <= covered / 200 <= 0.99  # about the nominal 95 %
    with pytest.raises(InvalidInputError):
        poisson_trend([2020, 2021], [3, 4])


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "R1"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_form_1m_report_is_read_by_its_numbered_header() -> None:
    data = workbook(
        [
            ["Форма отчета № 1-М"],
            ["Наименование показателей", None, None, "Шифр строки", "в производстве"],
            ["А", None, None, "Б", 1, 2, 3],
            ["Всего правонарушений", None, None, 1, 100, 80, 5],
            ["из них", "Мошенничество (ст.190) ", None, 2, 40, 30, 1],
            ["Глава 14. Транспортные уголовные правонарушения", None, None, 3, 9, 7, 0],
            ["Нарушение ПДД в состоянии опьянения (ст.345-1) ", None, None, 4, None, 2, 0],
        ]
    )
    lines = parse_report(data)
    assert [(x.line, x.article, x.chapter, x.in_proceedings, x.registered) for x in lines] == [
        (1, None, None, 100, 80),
        (2, "190", None, 40, 30),
        (3, None, 14, 9, 7),
        (4, "345-1", None, 0, 2),
    ]
    with pytest.raises(InvalidInputError, match="not an XLSX"):
        parse_report(b"PK\x03\x04 broken")
    with pytest.raises(InvalidInputError, match="no header row"):
        parse_report(workbook([["Всего", 1, 2]]))
    with pytest.raises(InvalidInputError, match="is not a count"):
        parse_report(workbook([["А", "Б", 1, 2], ["Всего", 1, "много", 3]]))


def test_regions_have_dated_population_and_the_reports_names(tmp_path: Path) -> None:
    table = load_regions()
    assert len(table.regions()) == 20
    assert table.code_for("Mangistay Region") == "12" and table.code_for("Шымкент") == "17"
    population, source = table.population_of("13", date(2025, 6, 1)) or (0, None)
    assert population > 2_000_000 and source is not None and source.since == date(2024, 1, 1)
    assert table.vehicles_of("13", date(2025, 6, 1)) is None  # none shipped
    with pytest.raises(NotFoundError):
        table.code_for("Atlantis")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[population]]\ndate = 2024-01-01\n[population.regions]\n"42" = -5\n')
    with pytest.raises(ConfigError, match=r"no region '42'.*not a positive number"):
        load_regions(bad)


@pytest.mark.parametrize("counts", [[0, 0, 5], [1, 0, 0, 0, 0], [0, 0, 0, 7]])
def test_counts_with_no_finite_trend_are_refused_not_crashed(counts: list[int]) -> None:
    with pytest.raises(InvalidInputError, match="no trend can be estimated"):
        poisson_trend(list(range(2015, 2015 + len(counts))), counts)
