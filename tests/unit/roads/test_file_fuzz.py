"""Hostile accident files and crime workbooks: random bytes, mutated valid files and workbooks of
random cells are read or refused with a domain error, never a raw exception."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kupol.core.errors import InvalidInputError
from kupol.roads.crime import parse_report
from kupol.roads.importer import parse
from kupol.roads.mapping import load_mapping
from tests.unit.fuzzing import FUZZ, hostile, mutated_member, refused_or_read
from tests.unit.roads.test_importer import HEADER, kz
from tests.unit.roads.test_statistics import workbook

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KZ_FILE = (
    HEADER
    + "A1,01.03.2025 08:15,51.128,71.430,ранен,столкновение,01,0,2,60\n"
    + "A2,01.03.2025 09:00,43.238,76.945,погиб,наезд на пешехода,02,1,0,\n"
    + "A3,31.12.9999 23:59,51.1,71.4,легко,столкновение,01,0,1,\n"
    + "A4,01.01.0001 00:00,,,легко,столкновение,01,0,1,\n"
).encode()
EDINBURGH_FILE = (
    b"acc_ref,severity,no_vehicle,a_date,a_time_hr,a_time_min,loc_auth,road1_class,road1_no,"
    b"road_type,speed_limi,junc_det,junc_ctrl,light_cond,weather,road_surf,easting,northing,"
    b"acc_type,ped_xing_p,Postcode\n"
    b"1,Fatal,1,02/01/2010,14,4,230,A,8,x,30,x,x,Daylight: street lights present,Other,Dry,"
    b"326450,676770,Pedestrian,x,EH66NF\n"
    b"2,Slight,2,02/01/2010,9,0,230,A,8,x,30,x,x,Daylight: street lights present,Other,Dry,"
    b"326450,676770,Pedestrian,x,EH66NF\n"
)
CASUALTIES = b"acc_ref,cas_severe\n1,Fatal\n1,Serious\n1,Slight\n2,Slight\n"
REPORT = [
    ["Форма отчета № 1-М"],
    ["Наименование показателей", None, None, "Шифр строки", "в производстве"],
    ["А", None, None, "Б", 1, 2, 3],
    ["Всего правонарушений", None, None, 1, 100, 80, 5],
    ["из них", "Мошенничество (ст.190) ", None, 2, 40, 30, 1],
    ["Глава 14. Транспортные уголовные правонарушения", None, None, 3, 9, 7, 0],
]
SHEET_XML = "xl/worksheets/sheet1.xml"
NUMBERS = [b"1e999", b"-1e999", b"nan", b"inf", b"-1", b"1.5", b"1e300", b"", b"x", b"0",
           b"99999999999999999999", b"2"]  # fmt: skip
XML_NOISE = "0123456789.-+eE<>/\"'&;t=nsbinfaNI "
"""What turns a sheet's cells into other numbers, types or broken XML."""
CELLS = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=12),
    st.sampled_from(["А", "Б", "из них", "Глава 14. Транспорт", "(ст.190)", 1, 2, "", " "]),
)


@FUZZ
@given(data=hostile(KZ_FILE))
def test_a_hostile_accident_file_is_read_or_refused(data: bytes) -> None:
    parsed = refused_or_read(lambda: parse(data, kz(), now=NOW))
    if parsed is not None:
        assert all(row.occurred_at.tzinfo is not None for row in parsed.rows)


def test_a_time_at_the_calendar_s_edge_is_a_rejected_row() -> None:
    parsed = parse(KZ_FILE, kz(), now=NOW)
    reasons = {r.reference: r.reason for r in parsed.rejects}
    assert "in the future" in reasons["A3"] and "out of range" in reasons["A4"]


@FUZZ
@given(data=hostile(EDINBURGH_FILE), casualties=hostile(CASUALTIES))
def test_a_hostile_file_in_a_national_grid_with_its_related_file_is_read_or_refused(
    data: bytes, casualties: bytes
) -> None:
    refused_or_read(lambda: parse(data, load_mapping("edinburgh"),
                                  related={"casualty": casualties}, now=NOW))  # fmt: skip


@FUZZ
@given(data=hostile(workbook(REPORT)))
def test_hostile_bytes_as_a_crime_workbook_are_refused(data: bytes) -> None:
    refused_or_read(lambda: parse_report(data))


@FUZZ
@given(data=mutated_member(workbook(REPORT), SHEET_XML, noise=XML_NOISE))
def test_a_crime_workbook_with_a_hostile_sheet_is_read_or_refused(data: bytes) -> None:
    refused_or_read(lambda: parse_report(data))


@st.composite
def renumbered(draw: st.DrawFn) -> bytes:
    """The report with some of its numbers (line codes, counts) replaced by hostile ones."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook(REPORT))) as source, zipfile.ZipFile(out, "w") as zf:
        for name in source.namelist():
            data = source.read(name)
            if name == SHEET_XML:
                values = re.split(rb"(<v>[^<]*</v>)", data)
                for i in draw(st.sets(st.sampled_from(range(1, len(values), 2)), max_size=4)):
                    values[i] = b"<v>" + draw(st.sampled_from(NUMBERS)) + b"</v>"
                data = b"".join(values)
            zf.writestr(name, data)
    return out.getvalue()


@FUZZ
@given(data=renumbered())
def test_a_crime_workbook_with_hostile_numbers_is_read_or_refused(data: bytes) -> None:
    refused_or_read(lambda: parse_report(data))


def test_a_line_code_or_a_count_beyond_any_real_one_is_refused() -> None:
    for cell in ("1e999", "-1e999", "1e300", "2.5", "nan"):
        with pytest.raises(InvalidInputError):
            parse_report(with_value(workbook(REPORT), "D4", cell))
        with pytest.raises(InvalidInputError):
            parse_report(with_value(workbook(REPORT), "E4", cell))


@FUZZ
@given(rows=st.lists(st.lists(CELLS, max_size=8), max_size=8), at=st.integers(0, 6))
def test_a_crime_workbook_of_hostile_cells_is_read_or_refused(
    rows: list[list[object]], at: int
) -> None:
    cells = [list(row) for row in REPORT]
    cells[at:at] = rows  # among the real header and lines, so that they are reached
    refused_or_read(lambda: parse_report(workbook(cells)))


def with_value(book: bytes, cell: str, value: str) -> bytes:
    """The workbook with ``cell``'s number written as ``value`` (any text, as a number)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == SHEET_XML:
                data = re.sub(rf'<c r="{cell}" t="n"><v>[^<]*</v>'.encode(),
                              f'<c r="{cell}" t="n"><v>{value}</v>'.encode(), data)  # fmt: skip
            target.writestr(name, data)
    return out.getvalue()
