"""The legal table: every band of art. 592, the MRP of the violation's date, fixed fines, the
early-payment discount, and tables that are refused with a clear reason."""

from __future__ import annotations

import doctest
import re
from datetime import date
from pathlib import Path

import pytest

from kupol.core.errors import ConfigError, InvalidInputError
from kupol.traffic import legal
from kupol.traffic.legal import DEFAULT_TABLE, load_legal_table

TABLE = load_legal_table()


@pytest.mark.parametrize(
    ("measured", "part", "fine_mrp"),
    [
        (70.0, None, None),  # exactly 10 over: no offence
        (70.1, "1", 5.0),
        (80.0, "1", 5.0),  # exactly 20 over: still the first part
        (80.5, "2", 10.0),
        (100.0, "2", 10.0),
        (101.0, "3", 20.0),
        (120.0, "3", 20.0),
        (120.01, "4", 40.0),
        (190.0, "4", 40.0),
        (45.0, None, None),  # under the limit
    ],
)
def test_every_band_of_article_592_by_how_far_over_the_limit(
    measured: float, part: str | None, fine_mrp: float | None
) -> None:
    found = TABLE.speeding(limit_kmh=60, measured_kmh=measured, on=date(2026, 5, 1))
    if part is None or fine_mrp is None:
        assert found is None
        return
    assert found is not None
    assert (found.article, found.part, found.fine_mrp) == ("592", part, fine_mrp)
    assert found.fine_tenge == round(fine_mrp * 4325)


@pytest.mark.parametrize(
    ("day", "mrp"),
    [
        (date(2023, 1, 1), 3450),
        (date(2024, 6, 30), 3692),
        (date(2025, 1, 1), 3932),
        (date(2025, 12, 31), 3932),  # the last day of 2025: the 2025 amount
        (date(2026, 1, 1), 4325),
        (date(2030, 1, 1), 4325),  # no newer law in the table: the latest amount
    ],
)
def test_a_fine_is_converted_with_the_mrp_of_the_day_of_the_offence(day: date, mrp: int) -> None:
    found = TABLE.qualify("red_light", on=day)
    assert (found.article, found.fine_mrp, found.mrp_tenge) == ("599", 10.0, mrp)
    assert found.fine_tenge == 10 * mrp


def test_a_day_before_the_table_starts_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no MRP is known for 2022-12-31"):
        TABLE.qualify("red_light", on=date(2022, 12, 31))


def test_fixed_fines_for_a_red_light_and_for_not_yielding_to_a_pedestrian() -> None:
    on = date(2026, 2, 1)
    assert TABLE.qualify("red_light", on=on).article == "599"
    yielding = TABLE.qualify("failing_to_yield_to_pedestrian", on=on)
    assert (yielding.article, yielding.part, yielding.fine_tenge) == ("600", None, 43250)


def test_paying_within_seven_days_costs_half() -> None:
    found = TABLE.qualify("red_light", on=date(2026, 2, 1))
    assert found.discounted_tenge == 21625
    assert found.discount_deadline(date(2026, 2, 3)) == date(2026, 2, 10)


def test_amounts_in_tenge_round_halves_up() -> None:
    assert legal.tenge(2162.5) == 2163 and legal.tenge(2162.49) == 2162
    found = TABLE.qualify("red_light", on=date(2026, 2, 1))
    assert found.discounted_tenge == 21625  # half of 43,250, exact


def test_unknown_offences_graded_ones_without_a_measure_and_bad_speeds_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="no article for offence 'parking'"):
        TABLE.qualify("parking", on=date(2026, 1, 1))
    with pytest.raises(InvalidInputError, match="graded"):
        TABLE.qualify("speeding", on=date(2026, 1, 1))
    for limit, measured in ((0, 50), (60, -1), (60, float("nan"))):
        with pytest.raises(InvalidInputError):
            TABLE.speeding(limit_kmh=limit, measured_kmh=measured, on=date(2026, 1, 1))


def test_a_deployment_updates_amounts_with_its_own_table(tmp_path: Path) -> None:
    own = tmp_path / "legal.toml"
    text = DEFAULT_TABLE.read_text(encoding="utf-8")
    own.write_text(
        text + '\n[[mrp]]\nfrom = 2027-01-01\ntenge = 4600\nsource = "budget law 2027"\n',
        encoding="utf-8",
    )
    table = load_legal_table(own)
    assert table.qualify("red_light", on=date(2027, 3, 1)).fine_tenge == 46000
    assert table.qualify("red_light", on=date(2026, 3, 1)).fine_tenge == 43250


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("tenge = 3692", "tenge = -1"), "mrp.1.tenge"),
        (lambda t: t.replace("from = 2024-01-01", "from = 2027-01-01"), "oldest first"),
        (lambda t: t.replace("up_to_kmh = 40,", "up_to_kmh = 45,"), "must start where"),
        (lambda t: t.replace("fine_mrp = 40 }", "up_to_kmh = 90, fine_mrp = 40 }"), "open-ended"),
        (
            lambda t: t.replace(
                'code = "599"', 'code = "599"\nbands = [{ part = "1", over_kmh = 0, fine_mrp = 1 }]'
            ),
            "not both",
        ),
        (lambda t: t.replace("share = 0.5", "share = 1.5"), "discount.share"),
        (lambda t: t.replace("fine_mrp = 10\n", "", 1), "give a fine_mrp or bands"),
        (
            lambda t: t.replace(
                "over_kmh = 20, up_to_kmh = 40,", "over_kmh = 20, up_to_kmh = 15,"
            ).replace("over_kmh = 40, up_to_kmh = 60", "over_kmh = 15, up_to_kmh = 60"),
            "up_to_kmh must be above",
        ),
        (lambda t: t.replace('offence = "red_light"', 'offence = "speeding"'), "one article"),
        (lambda t: t + "\nsurprise = 1\n", "surprise"),
        (lambda t: t.replace("[discount]", "[discount"), "not valid TOML"),
    ],
)
def test_a_broken_table_is_refused_naming_the_file_and_the_problem(
    tmp_path: Path, edit: object, reason: str
) -> None:
    broken = tmp_path / "legal.toml"
    broken.write_text(edit(DEFAULT_TABLE.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(ConfigError, match=reason) as caught:
        load_legal_table(broken)
    assert str(broken) in str(caught.value)


def test_a_missing_table_is_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("legal table /nowhere/legal.toml")):
        load_legal_table(Path("/nowhere/legal.toml"))


def test_the_docstring_example_holds() -> None:
    assert doctest.testmod(legal).failed == 0
