"""The rapidocr baseline on ``../shared/data/plates``, as measured
(docs/plates-performance.md): the figures kupol's own reader must beat.

Re-measuring every photo folder takes over a minute of rapidocr's detector: those runs are
``make eval`` (marker ``evaluation``). ``make test`` reads the US crops whole (the crop
reader) and the first photos of the EU folder (the photo reader)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kupol.plates.evaluate import evaluate_plates
from kupol.plates.readers import RapidOcrReader
from tests.conftest import need_data

pytestmark = [pytest.mark.slow, pytest.mark.data]

# Measured 2026-12-03 (exact share) with the same deployment countries as kupol's reader gets
# for each folder (tests/integration/test_plates_reader_on_real_data.py), so that both readers
# have the same look-alike correction; the test allows 3 points of noise from library builds.
MEASURED: dict[str, tuple[float, tuple[str, ...]]] = {
    "openalpr-us-crops": (0.658, ("kz",)),
    "nomeroff-ua": (0.810, ("kz", "ua")),
    "openalpr-br": (0.902, ("kz", "br")),
    "openalpr-eu": (0.823, ("kz", "sk")),
}
PHOTO_FOLDERS = sorted(set(MEASURED) - {"openalpr-us-crops"})


def _check(folder: Path, name: str) -> None:
    floor, countries = MEASURED[name]
    figures = evaluate_plates(folder, RapidOcrReader(countries=countries))
    assert figures["n"] >= 20
    assert figures["exact"] >= floor - 0.03, figures
    assert figures["char_accuracy"] >= 0.9, figures


def test_the_rapidocr_crop_reader_reads_the_us_crops_as_measured() -> None:
    _check(need_data("plates", "openalpr-us-crops"), "openalpr-us-crops")


@pytest.mark.evaluation
@pytest.mark.parametrize("name", PHOTO_FOLDERS)
def test_the_rapidocr_baseline_reads_each_photo_folder_as_measured(name: str) -> None:
    _check(need_data("plates", name), name)


def test_the_rapidocr_photo_reader_finds_and_reads_the_first_eu_photos(tmp_path: Path) -> None:
    folder = need_data("plates", "openalpr-eu")
    header, *rows = (folder / "groundtruth.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "groundtruth.csv").write_text("\n".join([header, *rows[:12]]) + "\n")
    for row in rows[:12]:
        (tmp_path / row.split(",", 1)[0]).symlink_to(folder / row.split(",", 1)[0])
    figures = evaluate_plates(tmp_path, RapidOcrReader(countries=MEASURED["openalpr-eu"][1]))
    # Measured 2026-12-06: all 12 found, 10 read exactly (char accuracy 0.964).
    assert (figures["n"], figures["detected"]) == (12, 12), figures
    assert figures["exact_count"] >= 9, figures
