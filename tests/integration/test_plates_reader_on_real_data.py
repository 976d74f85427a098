"""kupol's own plate reader (the shipped CRNN) on every folder of ``../shared/data/plates`` and
on held-out rendered Kazakh plates, as measured (docs/plates-performance.md)."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import pytest

from kupol.plates.crnn import CrnnPlateReader, CrnnSettings
from kupol.plates.dataset import heldout_fonts, make_sample
from kupol.plates.evaluate import evaluate_plates, evaluate_rendered
from tests.conftest import need_data
from tests.integration.test_plates_baseline_on_real_data import MEASURED as RAPIDOCR

pytestmark = [pytest.mark.slow, pytest.mark.data]

# Measured 2026-12-06 with the committed models (exact share), photos read as `kupol eval
# plates` reads them (the learned detector's and the classical locator's places, in the whole
# photo and inside its vehicles); floors allow 2 points or one plate, whichever is more. Short of
# the targets (92/95/90/90 %) on every folder, and of rapidocr on two: see
# docs/plates-performance.md. The countries are the deployment setting the folder calls for
# (the Slovak layout for openalpr-eu, whose plates are mostly Slovak); rapidocr gets the same.
MEASURED = {
    "openalpr-us-crops": (0.706, ("kz",)),
    "nomeroff-ua": (0.857, ("kz", "ua")),
    "openalpr-br": (0.927, ("kz", "br")),
    "openalpr-eu": (0.855, ("kz", "sk")),
}


@pytest.fixture(scope="module")
def reader() -> CrnnPlateReader:
    return CrnnPlateReader()


@functools.cache
def _figures(name: str, settings: CrnnSettings) -> dict[str, Any]:
    """One evaluation of a folder per reader setting, shared by the tests of this module."""
    return evaluate_plates(need_data("plates", name), CrnnPlateReader(settings))


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_the_kupol_reader_reads_real_plates_as_measured(name: str) -> None:
    floor, countries = MEASURED[name]
    figures = _figures(name, CrnnSettings(countries=countries, vehicles=True))
    assert figures["n"] >= 20
    slack = max(1, round(0.02 * figures["n"]))
    assert figures["exact_count"] >= round(floor * figures["n"]) - slack, figures


def test_looking_inside_the_vehicles_finds_ukrainian_plates_the_whole_photo_misses() -> None:
    _, countries = MEASURED["nomeroff-ua"]
    classical = CrnnSettings(countries=countries, detector=False)
    whole = _figures("nomeroff-ua", classical)
    both = _figures("nomeroff-ua", replace(classical, vehicles=True))
    # Measured with the classical locator alone: 16 of 21 plates found (11 read exactly)
    # without, 18 (12) with.
    assert both["detected"] >= whole["detected"] + 2, (whole, both)
    assert both["exact_count"] >= whole["exact_count"], (whole, both)


@pytest.mark.parametrize("name", ["nomeroff-ua", "openalpr-eu", "openalpr-br"])
def test_the_learned_detector_adds_plates_the_classical_locator_misses(name: str) -> None:
    _, countries = MEASURED[name]
    settings = CrnnSettings(countries=countries, vehicles=True)
    classical = _figures(name, replace(settings, detector=False))
    both = _figures(name, settings)
    # Measured (exact reads): UA 12 → 18 of 21, EU 52 → 53 of 62, BR 35 → 38 of 41.
    gain = {"nomeroff-ua": 4, "openalpr-br": 2, "openalpr-eu": 0}[name]
    assert both["exact_count"] >= classical["exact_count"] + gain, (classical, both)


def test_the_kupol_reader_beats_rapidocr_on_the_us_crops() -> None:
    _, countries = MEASURED["openalpr-us-crops"]
    figures = _figures("openalpr-us-crops", CrnnSettings(countries=countries))
    # 161 of 228 against rapidocr's 150: more than a few crops of noise.
    assert figures["exact"] > RAPIDOCR["openalpr-us-crops"][0] + 0.02, figures


@pytest.mark.parametrize("name", ["openalpr-eu", "openalpr-br", "nomeroff-ua"])
def test_the_kupol_reader_is_not_behind_rapidocr_on_the_photos(name: str) -> None:
    _, countries = MEASURED[name]
    figures = _figures(name, CrnnSettings(countries=countries, vehicles=True))
    # Measured: EU 53 of 62 against 51, BR 38 of 41 against 37, UA 18 of 21 against 17 (ahead
    # by one photo on the last two: this holds level at least); rapidocr's figure is its
    # share rounded to three places.
    assert figures["exact_count"] >= round(RAPIDOCR[name][0] * figures["n"]), figures


def test_held_out_rendered_kazakh_plates_are_read_as_measured(reader: CrnnPlateReader) -> None:
    if not any(f.suffix == ".woff" for f in heldout_fonts()):
        pytest.skip("held-out fonts not fetched (make plate-fonts)")
    figures = evaluate_rendered(reader, n=1000, seed=7)
    assert figures["two_line_n"] >= 250
    # Measured 0.987 (one-line 0.986, two-line 0.989; 0.984 before reads were mended); the
    # issue's target is 0.99.
    assert figures["exact"] >= 0.97, figures


def test_yellow_foreign_owned_plates_never_trained_on_are_read_as_measured(
    reader: CrnnPlateReader,
) -> None:
    if not any(f.suffix == ".woff" for f in heldout_fonts()):
        pytest.skip("held-out fonts not fetched (make plate-fonts)")
    figures = evaluate_rendered(reader, n=500, seed=7, foreign=True)
    assert figures["set"] == "rendered-kz-foreign seed 7"
    # Measured 0.976 / 0.980 / 0.969 over 1,000 (seeds 7, 8, 9); 0.943-0.951 without their
    # layout among Kazakhstan's (the look-alike swaps it allows).
    assert figures["exact"] >= 0.95, figures


def test_mending_reads_into_a_layout_gains_held_out_plates_and_loses_none() -> None:
    """The mended reads (kupol.plates.layout_read) on the held-out rendered plates: every
    plate read right without them is still read right, and some more are (measured: 3 more of
    1,000 with seed 7, 1 with seed 8, 2 with seed 9, none lost)."""
    fonts = heldout_fonts()
    if not any(f.suffix == ".woff" for f in fonts):
        pytest.skip("held-out fonts not fetched (make plate-fonts)")
    plain = CrnnPlateReader(CrnnSettings(mend=False))
    mending = CrnnPlateReader(CrnnSettings(mend=True))
    samples = [make_sample(seed=7, index=i, fonts=fonts, heldout=True) for i in range(1000)]
    before = {i for i, s in enumerate(samples) if plain.read_crop(s.crop).text == s.text}
    after = {i for i, s in enumerate(samples) if mending.read_crop(s.crop).text == s.text}
    assert before <= after
    assert len(after - before) >= 2
