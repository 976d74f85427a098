"""The rapidocr baseline on every folder of ``../shared/data/plates``, as measured
(docs/plates-performance.md): the figures kupol's own reader must beat."""

from __future__ import annotations

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


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_the_rapidocr_baseline_reads_as_measured(name: str) -> None:
    floor, countries = MEASURED[name]
    figures = evaluate_plates(need_data("plates", name), RapidOcrReader(countries=countries))
    assert figures["n"] >= 20
    assert figures["exact"] >= floor - 0.03, figures
    assert figures["char_accuracy"] >= 0.9, figures
