"""kupol's own plate reader (the shipped CRNN) on plates it can be sure of."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kupol.plates.crnn import CrnnPlateReader, CrnnSettings
from kupol.plates.formats import fit_to_countries, fits_countries
from kupol.plates.readers import reader_for
from kupol.plates.render import PlateStyle, available_fonts, render_plate


@pytest.fixture(scope="module")
def reader() -> CrnnPlateReader:
    return CrnnPlateReader()


def _plate(text: str, style: PlateStyle, seed: int = 0) -> np.ndarray:
    plate = render_plate(text, style=style, rng=np.random.default_rng(seed), font=available_fonts())
    h = 40 if style is not PlateStyle.KZ_TWO_LINE else 90
    w = round(plate.image.shape[1] * h / plate.image.shape[0])
    small = cv2.resize(plate.image, (w, h), interpolation=cv2.INTER_AREA)
    return cv2.copyMakeBorder(small, 4, 4, 6, 6, cv2.BORDER_CONSTANT, value=(90, 90, 90))


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("123 ABC 02", PlateStyle.KZ_INDIVIDUAL),
        ("777 IQ 17", PlateStyle.KZ_ORGANISATION),
        ("450 JGA 20", PlateStyle.KZ_INDIVIDUAL),
        ("318 KZ 05", PlateStyle.KZ_TWO_LINE),
    ],
)
def test_a_clear_kazakh_plate_is_read_exactly(
    reader: CrnnPlateReader, text: str, style: PlateStyle
) -> None:
    read = reader.read_crop(_plate(text, style))
    assert read.text == text.replace(" ", "")
    assert 0.5 < read.confidence <= 1.0


def test_a_blank_crop_reads_as_nothing_sure(reader: CrnnPlateReader) -> None:
    read = reader.read_crop(np.full((40, 180, 3), 235, np.uint8))
    assert read.confidence < 0.5 or read.text == ""


def test_a_plate_on_a_car_is_found_and_read_in_the_whole_photo(reader: CrnnPlateReader) -> None:
    rng = np.random.default_rng(4)
    scene = np.clip(rng.normal(110, 25, (360, 640, 3)), 0, 255).astype(np.uint8)
    cv2.rectangle(scene, (180, 120), (470, 330), (60, 60, 140), -1)  # a car's back
    plate = _plate("505 QAZ 01", PlateStyle.KZ_INDIVIDUAL)
    y, x = 250, 330 - plate.shape[1] // 2
    scene[y : y + plate.shape[0], x : x + plate.shape[1]] = plate
    reads = reader.read_photo(scene)
    assert reads, "no plate found"
    assert reads[0].text == "505QAZ01"
    assert reads[0].box is not None
    x0, y0, x1, y1 = reads[0].box
    assert x0 <= x + plate.shape[1] // 2 <= x1 and y0 <= y + plate.shape[0] // 2 <= y1


def test_many_crops_are_read_in_one_call_in_order(reader: CrnnPlateReader) -> None:
    crops = [_plate(t, PlateStyle.KZ_INDIVIDUAL, i) for i, t in enumerate(["111AAA01", "222BBB02"])]
    assert [r.text for r in reader.read_crops(crops)] == ["111AAA01", "222BBB02"]
    assert reader.read_crops([]) == []


def test_the_registry_builds_the_kupol_reader_with_its_countries() -> None:
    made = reader_for("kupol", countries=("kz", "br"))
    assert isinstance(made, CrnnPlateReader)
    assert made.settings.countries == ("kz", "br")


def test_a_single_view_reader_still_reads() -> None:
    single = CrnnPlateReader(CrnnSettings(variants=1))
    assert single.read_crop(_plate("808 MMM 14", PlateStyle.KZ_INDIVIDUAL)).text == "808MMM14"


def test_look_alikes_are_fixed_only_where_a_countrys_layout_says_so() -> None:
    assert fit_to_countries("I23ABCO2", ["kz"]) == "123ABC02"
    assert fit_to_countries("AT6B83CM", ["ua"]) == "AT6883CM"
    assert fit_to_countries("AT6B83CM", ["kz"]) == "AT6B83CM"
    assert fit_to_countries("OO0OOOO", ["br"]) == "OO0OOOO"  # more than two swaps: left alone
    assert fits_countries("ABC1D23", ["br"]) and not fits_countries("ABC1D23", ["kz"])
    assert not fits_countries("123ABC99", ["kz"])  # no region 99
