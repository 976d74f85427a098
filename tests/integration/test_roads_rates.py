"""Rates per 100,000 residents and per 10,000 registered vehicles, on SQLite and PostgreSQL:
from the region table in force at the period's start, and only where the table has them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kupol.bootstrap import build_container
from kupol.roads.mapping import load_mapping
from kupol.roads.regions import SHIPPED, load_regions
from kupol.roads.stats import Filter
from kupol.roads.synthetic import synthetic_year
from tests.conftest import add_user, make_settings


def test_rates_per_people_and_per_vehicles(database_url: str, tmp_path: Path) -> None:
    table = tmp_path / "regions.toml"
    table.write_text(
        SHIPPED.read_text(encoding="utf-8")
        + '\n[[vehicles]]\ndate = 2024-01-01\nsource = "test"\n[vehicles.regions]\n'
        + '"01" = 400000\n"13" = 300000\n',
        encoding="utf-8",
    )
    container = build_container(
        make_settings(
            database_url=database_url, data_dir=tmp_path / "data", roads={"population": table}
        )
    )
    try:
        analyst, _ = add_user(container, "ana", "analyst")
        container.roads.registry.import_file(
            data=synthetic_year(load_regions(), accidents=4000, seed=9),
            file_name="kz.csv", mapping=load_mapping("kz-synthetic"), actor=analyst,
        )  # fmt: skip
        year = Filter(since=date(2025, 1, 1), until=date(2026, 1, 1))
        people = container.roads.statistics.ranking(actor=analyst, measure="accidents", where=year)
        assert len(people.rows) == 20
        astana = next(r for r in people.rows if r.key == "01")
        expected = astana.value / (1_423_000 * people.years) * 1e5  # a year of 365 / 365.25
        assert astana.per_100k_year == pytest.approx(expected, rel=1e-9)
        assert astana.per_100k_interval is not None
        assert astana.per_100k_interval.low < astana.per_100k_year < astana.per_100k_interval.high
        fleet = container.roads.statistics.ranking(
            actor=analyst, measure="accidents", where=year, per="vehicles"
        )
        assert [r.key for r in fleet.rows] == sorted(
            ["01", "13"], key=lambda k: -next(r for r in fleet.rows if r.key == k).value / (
                400_000 if k == "01" else 300_000)
        )  # fmt: skip
        assert fleet.rows[0].per_10k_vehicles_year is not None
        assert "per 10,000 registered vehicles" in fleet.statement
        assert "without a vehicle figure, not ranked: 02" in fleet.statement
    finally:
        container.db.dispose()
