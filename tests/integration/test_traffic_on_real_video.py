"""The traffic stage on the real clips, calibrated from what is in the picture
(src/kupol/traffic/reference/*.toml): how many vehicles it times and their speed distribution,
held at what was measured (docs/traffic.md, "Real video").

highway-cdnet.avi: 27 vehicles cross the picture's 60 % line by eye and a 28th reaches it in
the last frames (test_counts_on_real_video.py); the clip's time stamps say 60 fps, and the
speeds rest on that and on the markings' standard (3 m dashes, 6 m gaps, 3.7 m lanes).
cars-intel.mp4: four cars by eye; a rough calibration from one car's outline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kupol.traffic.survey import Survey, survey_video
from kupol.vision.config import load_camera_config
from tests.conftest import need_data

pytestmark = [pytest.mark.data, pytest.mark.slow]
REFERENCE = Path(__file__).resolve().parents[2] / "src/kupol/traffic/reference"


def survey(clip: str, config: str) -> Survey:
    return survey_video(need_data("video", clip), load_camera_config(REFERENCE / config))


@pytest.fixture(scope="module")
def highway() -> Survey:
    return survey("highway-cdnet.avi", "highway-cdnet.toml")


def test_the_highway_vehicles_are_counted_and_timed(highway: Survey) -> None:
    # Measured 2026-12-03: 30 vehicle tracks (28 vehicles by eye: a few tracks split), all 30
    # timed, residuals 0.26-1.3 m.
    assert 26 <= highway.vehicles <= 33
    assert len(highway.speeds) >= 26
    assert all(s.residual_m <= 1.5 for s in highway.speeds)


def test_the_highway_speeds_are_those_of_a_freeway(highway: Survey) -> None:
    # Measured 2026-12-03: 98-144 km/h, median 120, 10th-90th percentile 110-136.
    assert 112 <= highway.percentile(50) <= 128
    assert highway.percentile(10) >= 105 and highway.percentile(90) <= 142
    assert highway.kmh[0] >= 90 and highway.kmh[-1] <= 155


def test_the_car_park_cars_are_counted_and_slow() -> None:
    found = survey("cars-intel.mp4", "cars-intel.toml")
    # Measured 2026-12-03: 4 vehicles (4 by eye), 3 timed at 10.4, 5.7 and 10.2 km/h.
    assert found.vehicles == 4
    assert len(found.speeds) >= 3
    assert all(3 <= v <= 20 for v in found.kmh)
