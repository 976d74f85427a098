"""Calibration and speed on a simulated roadside camera: a pinhole camera 8 m up, looking
down the road, whose true ground positions are known exactly."""

from __future__ import annotations

import doctest
import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.traffic import calibration as calibration_module
from kupol.traffic import speed as speed_module
from kupol.traffic.calibration import Calibration, MarkedPoint, local_metres
from kupol.traffic.speed import TrackPoint, measure_speed


def pinhole(
    height: float = 8.0, pitch_deg: float = 18.0, focal: float = 1000.0
) -> Callable[[float, float], tuple[float, float]]:
    """A function projecting road points (east, north) in metres into 1280 x 720 pixels, for
    a camera at (0, 0, height) looking north, tilted down by ``pitch_deg``."""
    pitch = math.radians(pitch_deg)
    right = np.array([1.0, 0.0, 0.0])
    forward = np.array([0.0, math.cos(pitch), -math.sin(pitch)])
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    centre = np.array([0.0, 0.0, height])

    def project(east: float, north: float) -> tuple[float, float]:
        x, y, z = rotation @ (np.array([east, north, 0.0]) - centre)
        assert z > 0, "behind the camera"
        return float(640 + focal * x / z), float(360 + focal * y / z)

    return project


PROJECT = pinhole()
# Marks an operator could take from a lane plan: lane lines 3.5 m apart, 10 to 60 m out.
ROAD_MARKS = [(-3.5, 10), (3.5, 10), (-3.5, 60), (3.5, 60), (0, 30), (7.0, 40)]


def marks(noise_px: float = 0.0, seed: int = 0) -> list[MarkedPoint]:
    rng = np.random.default_rng(seed)
    return [MarkedPoint(image=_jitter(PROJECT(*g), rng, noise_px), ground=g) for g in ROAD_MARKS]


def _jitter(point: tuple[float, float], rng: np.random.Generator, sd: float) -> tuple[float, float]:
    dx, dy = rng.normal(0, sd, 2) if sd else (0.0, 0.0)
    return point[0] + float(dx), point[1] + float(dy)


def test_a_calibration_puts_image_points_back_on_the_road_exactly() -> None:
    calibration = Calibration.fit(marks())
    assert calibration.rms_m < 1e-6
    for east, north in [(1.75, 15.0), (-2.0, 45.0), (5.0, 25.0)]:
        x, y = calibration.to_ground(PROJECT(east, north))
        assert math.hypot(x - east, y - north) < 1e-6
        back = calibration.to_image((east, north))
        assert math.dist(back, PROJECT(east, north)) < 1e-6


def test_marking_errors_show_in_the_fit_residual() -> None:
    rough = Calibration.fit(marks(noise_px=2.0, seed=3))
    assert 0.01 < rough.rms_m < 1.0


@pytest.mark.parametrize("kmh", [30.0, 60.0, 90.0, 130.0])
@pytest.mark.parametrize("lane_east", [-1.75, 1.75])
def test_a_vehicle_speed_is_measured_within_3_kmh(kmh: float, lane_east: float) -> None:
    # A vehicle driving away from 12 m to as far as it gets in 1.5 s at 10 frames/s; its box's
    # bottom centre jitters by about a pixel and the marks were clicked about a pixel off.
    calibration = Calibration.fit(marks(noise_px=1.0, seed=1))
    rng = np.random.default_rng(int(kmh))
    track = []
    for i in range(16):
        t = i / 10
        north = 12 + kmh / 3.6 * t
        x, y = PROJECT(lane_east, north)
        track.append(TrackPoint(t=t, image=(x + rng.normal(0, 1.0), y + rng.normal(0, 1.0))))
    measured = measure_speed(track, calibration)
    assert abs(measured.kmh - kmh) <= 3.0, measured
    assert measured.samples == 16 and measured.seconds == pytest.approx(1.5)


def test_a_turning_vehicle_shows_a_large_residual() -> None:
    calibration = Calibration.fit(marks())
    straight = [TrackPoint(t=i / 10, image=PROJECT(0.0, 15 + i)) for i in range(10)]
    turning = [
        TrackPoint(t=i / 10, image=PROJECT(6 * math.sin(i / 3), 15 + 6 * (1 - math.cos(i / 3))))
        for i in range(10)
    ]
    assert measure_speed(straight, calibration).residual_m < 0.01
    assert measure_speed(turning, calibration).residual_m > 0.3


@pytest.mark.parametrize(
    ("points", "reason"),
    [
        (marks()[:3], "4 or more"),
        ([*marks()[:3], marks()[0]], "share one image position"),
        (
            [MarkedPoint(image=PROJECT(0, n), ground=(0, n)) for n in (10, 20, 30, 40)],
            "one line",
        ),
        ([*marks()[:3], MarkedPoint(image=(float("nan"), 1.0), ground=(9.0, 9.0))], "finite"),
    ],
)
def test_points_that_cannot_make_a_calibration_are_refused(
    points: list[MarkedPoint], reason: str
) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        Calibration.fit(points)


def test_tracks_that_cannot_give_a_speed_are_refused() -> None:
    calibration = Calibration.fit(marks())
    good = [TrackPoint(t=i / 10, image=PROJECT(0.0, 15 + i)) for i in range(5)]
    with pytest.raises(InvalidInputError, match="3 or more"):
        measure_speed(good[:2], calibration)
    with pytest.raises(InvalidInputError, match="increasing time"):
        measure_speed([good[0], good[2], good[1]], calibration)
    with pytest.raises(InvalidInputError, match=re.escape("spans 0.20 s")):
        measure_speed(good[:3], calibration)


def test_latitude_and_longitude_become_local_metres() -> None:
    origin = (51.1280, 71.4305)  # Astana
    east, north = local_metres(51.1280, 71.4305 + 0.001, origin=origin)
    # 0.001 degrees of longitude at 51.128 degrees north: 111,195 m x cos(51.128) / 1000.
    assert north == pytest.approx(0.0) and east == pytest.approx(69.784, abs=0.01)
    # Against the great-circle distance 600 m away: within a centimetre.
    lat, lon = 51.1280 + 0.004, 71.4305 + 0.005
    a = (
        math.sin(math.radians(lat - origin[0]) / 2) ** 2
        + math.cos(math.radians(origin[0]))
        * math.cos(math.radians(lat))
        * math.sin(math.radians(lon - origin[1]) / 2) ** 2
    )
    great_circle = 2 * 6_371_008.8 * math.asin(math.sqrt(a))
    assert math.hypot(*local_metres(lat, lon, origin=origin)) == pytest.approx(
        great_circle, abs=0.01
    )


@pytest.mark.parametrize("module", [calibration_module, speed_module])
def test_the_docstring_examples_hold(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
