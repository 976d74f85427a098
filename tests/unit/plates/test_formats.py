"""Kazakhstan's plate formats: what is a plate, which region, and the text rules of search."""

from __future__ import annotations

import doctest

import pytest

import kupol.plates.formats as formats
from kupol.plates.formats import (
    REGIONS,
    PlateKind,
    fit_to_countries,
    fit_to_kazakh_format,
    normalise,
    parse_plate,
    wildcard,
    within_one,
)


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(formats, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5 and result.failed == 0


def test_every_region_code_from_01_to_20_is_known_once() -> None:
    assert sorted(REGIONS) == [f"{n:02d}" for n in range(1, 21)]
    assert REGIONS["01"].name_en == "Astana"
    assert REGIONS["17"].name_en == "Shymkent"
    assert [REGIONS[c].name_en for c in ("18", "19", "20")] == ["Abai", "Jetisu", "Ulytau"]
    assert len({r.name_ru for r in REGIONS.values()}) == 20


@pytest.mark.parametrize(
    ("text", "kind", "region"),
    [
        ("123 ABC 02", PlateKind.KZ_INDIVIDUAL, "02"),
        ("001IJQ20", PlateKind.KZ_INDIVIDUAL, "20"),  # I, J, Q allowed since 2018
        ("777 GG 17", PlateKind.KZ_ORGANISATION, "17"),
        ("А 12345", PlateKind.KZ_SCOOTER, None),  # Cyrillic А read as Latin A
        ("H 123 ABC", PlateKind.KZ_1993, "08"),  # H: the Jambyl oblast of 1993
        ("Z 001 AA", PlateKind.KZ_1993, "01"),
        ("B 123 ABC", PlateKind.KZ_1993, None),  # Almaty oblast, which held Jetisu 1997-2022
        ("X 123 ABC", PlateKind.KZ_1993, None),  # South Kazakhstan: Turkestan or Shymkent now
        ("Q 123 ABC", PlateKind.OTHER, None),  # Q was never a 1993 area letter
        ("F 1234 02", PlateKind.KZ_FOREIGN, "02"),  # yellow: a foreign citizen's car
        ("H123417", PlateKind.KZ_FOREIGN, "17"),  # a foreign or joint company's
        ("F123421", PlateKind.OTHER, None),  # no region 21
        ("123ABC21", PlateKind.OTHER, None),  # no region 21: not a Kazakh plate
        ("123ABC00", PlateKind.OTHER, None),
        ("AB1234CD", PlateKind.OTHER, None),  # a foreign (Ukrainian-style) plate
        ("", PlateKind.INVALID, None),
        ("12345678901", PlateKind.INVALID, None),
    ],
)
def test_a_plate_is_recognised_by_its_format_and_region(
    text: str, kind: PlateKind, region: str | None
) -> None:
    reading = parse_plate(text)
    assert reading.kind == kind
    assert (reading.region.code if reading.region else None) == region
    assert reading.kazakh == kind.value.startswith("kz_")


def test_every_1993_area_letter_names_an_oblast_and_only_regions_that_exist() -> None:
    assert sorted(formats.AREAS_1993) == list("ABCDEFHKLMNOPRSTUVWXZ")
    for letter, (oblast, regions) in formats.AREAS_1993.items():
        assert oblast and regions and set(regions) <= set(REGIONS), letter
        reading = parse_plate(f"{letter}123ABC")
        assert reading.kind is PlateKind.KZ_1993
        assert (reading.region.code if reading.region else None) == (
            regions[0] if len(regions) == 1 else None
        )
    assert formats.area_1993("M 123 AB") == "Jezkazgan oblast"
    assert formats.area_1993("123AB02") is None


def test_a_foreign_owned_plate_read_with_lookalikes_is_fitted_to_its_layout() -> None:
    assert fit_to_countries("F12O4O2", ["kz"]) == "F120402"
    assert fit_to_countries("H1234I7", ["kz"]) == "H123417"
    assert fit_to_countries("E1234O2", ["kz"]) == "E1234O2"  # only F and H are foreign-owned
    # A 1993 plate is one already: no number of look-alike swaps makes it another kind.
    assert fit_to_kazakh_format("H123BOS") == "H123BOS"
    assert fit_to_kazakh_format("B120AOS") == "B120AOS"


def test_cyrillic_lookalikes_separators_and_case_do_not_matter() -> None:
    assert normalise("123 АВС-02") == normalise("123abc02") == "123ABC02"
    assert normalise("І") == "I"  # the Kazakh І


def test_kazakh_letters_and_full_width_forms_are_read_and_other_scripts_digits_are_not() -> None:
    assert parse_plate("123 ҚҢҰ 02").text == "123KHY02"
    assert parse_plate("１２３ ＡＢＣ ０２").kind is PlateKind.KZ_INDIVIDUAL
    assert parse_plate("１２３ ＡＢＣ ０２").text == "123ABC02"
    # Arabic-Indic and Devanagari digits look like no plate's: not a plate, not stored.
    assert parse_plate("١٢٣ABC02").kind is PlateKind.INVALID
    assert parse_plate("१२३AB02").kind is PlateKind.INVALID


@pytest.mark.parametrize(
    ("read", "fitted"),
    [
        ("I23ABC0Z", "123ABC02"),  # digits where the format wants digits
        ("1230BC02", "123OBC02"),  # a letter where it wants letters
        ("123AB8O2", "123ABB02"),  # 8 characters: the individual format, B read as 8
        ("12OAB17", "120AB17"),  # 7 characters: the organisation format
        ("AB1234CD", "AB1234CD"),  # not a Kazakh length: left as read
    ],
)
def test_a_read_is_fitted_to_the_kazakh_format_only_by_swapping_lookalikes(
    read: str, fitted: str
) -> None:
    assert fit_to_kazakh_format(read) == fitted


def test_fitting_never_invents_or_drops_characters() -> None:
    for read in ("I23ABC0Z", "12ABC02", "123ABCD02", "O0O0O0O0"):
        assert len(fit_to_kazakh_format(read)) == len(normalise(read))


@pytest.mark.parametrize(
    ("pattern", "plate", "hit"),
    [
        ("12?AB?02", "123ABC02", True),
        ("12?AB?02", "123ABC03", False),
        ("*ABC02", "999ABC02", True),
        ("777*", "777KKK17", True),
        ("777*", "177KKK17", False),
        ("123 авс 0?", "123ABC05", True),
    ],
)
def test_wildcards_search_plates(pattern: str, plate: str, hit: bool) -> None:
    assert bool(wildcard(pattern).match(plate)) is hit


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("123ABC02", "123ABC02", True),
        ("123ABC02", "123ABC08", True),
        ("123ABC02", "123ABCO2", True),
        ("123ABC02", "23ABC02", True),
        ("123ABC02", "1234ABC02", True),
        ("123ABC02", "124ABD02", False),
        ("123ABC02", "123AB0", False),
    ],
)
def test_fuzzy_matching_allows_one_character(a: str, b: str, close: bool) -> None:
    assert within_one(a, b) is close
    assert within_one(b, a) is close


@pytest.mark.parametrize(
    ("read", "countries", "fitted"),
    [
        ("RK3OOAS", ("sk",), "RK300AS"),  # Slovakia: two letters, three digits, two letters
        ("BA3020Z", ("sk",), "BA302OZ"),
        ("1B8O338", ("cz",), "1B80338"),  # Czechia: a digit, the region letter, then digits
        ("0Y09FEU", ("gb",), "OY09FEU"),  # Great Britain: area letters, age digits, letters
        ("RK3OOAS", ("kz",), "RK3OOAS"),  # not a Kazakh layout: left as read
    ],
)
def test_european_layouts_fix_lookalikes_where_a_deployment_names_them(
    read: str, countries: tuple[str, ...], fitted: str
) -> None:
    assert fit_to_countries(read, countries) == fitted
