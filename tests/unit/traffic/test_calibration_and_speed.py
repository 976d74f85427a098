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


def test_marks_that_fix_no_single_road_plane_are_refused() -> None:
    # Four marks along one lane line and one beside it: a whole family of homographies fits.
    line = [MarkedPoint(image=PROJECT(0.0, n), ground=(0.0, n)) for n in (10, 20, 30, 40)]
    with pytest.raises(InvalidInputError, match="do not fix one calibration"):
        Calibration.fit([*line, MarkedPoint(image=PROJECT(3.5, 25), ground=(3.5, 25))])
    # The two far marks' road positions swapped (left for right): no camera sees a road so,
    # and the fit would put some marks beyond the horizon.
    near_far = [(-3.5, 10), (3.5, 10), (3.5, 60), (-3.5, 60)]
    swapped = [(-3.5, 10), (3.5, 10), (-3.5, 60), (3.5, 60)]
    with pytest.raises(InvalidInputError, match="horizon"):
        Calibration.fit(
            [
                MarkedPoint(image=PROJECT(*g), ground=s)
                for g, s in zip(near_far, swapped, strict=True)
            ]
        )


def test_image_points_at_or_beyond_the_horizon_are_not_on_the_road() -> None:
    calibration = Calibration.fit(marks())
    # This camera's horizon is 1000 x tan(18 degrees), about 325 px above the image centre.
    assert calibration.to_ground(PROJECT(0.0, 200.0))[1] == pytest.approx(200.0)
    for y in (35.0, 20.0, -100.0):
        with pytest.raises(InvalidInputError, match="horizon"):
            calibration.to_ground((640.0, y))
    track = [TrackPoint(t=i / 10, image=(640.0, 60.0 - 10 * i)) for i in range(5)]
    with pytest.raises(InvalidInputError, match="horizon"):
        measure_speed(track, calibration)


def test_tracks_that_cannot_give_a_speed_are_refused() -> None:
    calibration = Calibration.fit(marks())
    good = [TrackPoint(t=i / 10, image=PROJECT(0.0, 15 + i)) for i in range(5)]
    with pytest.raises(InvalidInputError, match="3 or more"):
        measure_speed(good[:2], calibration)
    with pytest.raises(InvalidInputError, match="increasing time"):
        measure_speed([good[0], good[2], good[1]], calibration)
    with pytest.raises(InvalidInputError, match=re.escape("spans 0.20 s")):
        measure_speed(good[:3], calibration)


def test_latitude_and_longitude_become_local_metres_on_the_wgs84_ellipsoid() -> None:
    # Checked against the standard series for the length of a degree on WGS84 (independent of
    # the radii of curvature the code uses), at Astana's latitude.
    origin = (51.1280, 71.4305)
    phi = math.radians(origin[0])
    degree_east = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    degree_north = (
        111132.92
        - 559.82 * math.cos(2 * phi)
        + 1.175 * math.cos(4 * phi)
        - 0.0023 * math.cos(6 * phi)
    )
    east, north = local_metres(origin[0] + 0.003, origin[1] + 0.004, origin=origin)
    assert east == pytest.approx(0.004 * degree_east, abs=0.02)
    assert north == pytest.approx(0.003 * degree_north, abs=0.02)
    assert local_metres(*origin, origin=origin) == (0.0, 0.0)


@pytest.mark.parametrize("module", [calibration_module, speed_module])
def test_the_docstring_examples_hold(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
