"""A vehicle's speed from its track on a calibrated camera.

Each track point is the vehicle's ground contact point in the frame (its box's bottom centre)
at a time; the calibration puts it on the road in metres. The speed is the length of the
velocity that fits the positions best over time (least squares on east and north separately),
so one jittery box moves the answer little, and the fit's residual says how straight and
steady the path was.

Example:
    >>> from kupol.traffic.calibration import Calibration, MarkedPoint
    >>> flat = Calibration.fit([MarkedPoint(image=(0, 0), ground=(0, 0)),
    ...                         MarkedPoint(image=(100, 0), ground=(10, 0)),
    ...                         MarkedPoint(image=(100, 100), ground=(10, 10)),
    ...                         MarkedPoint(image=(0, 100), ground=(0, 10))])
    >>> track = [TrackPoint(t=i / 10, image=(0, 20 * i)) for i in range(6)]  # 2 m per 0.1 s
    >>> round(measure_speed(track, flat).kmh, 1)
    72.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kupol.core.errors import InvalidInputError
from kupol.traffic.calibration import Calibration, Point


@dataclass(frozen=True, kw_only=True)
class TrackPoint:
    """Where a vehicle touched the road in a frame, and when.

    Attributes:
        t: Seconds (any origin; only differences count).
        image: ``(x, y)`` pixels of the ground contact point (box bottom centre).
    """

    t: float
    image: Point


@dataclass(frozen=True, kw_only=True)
class SpeedEstimate:
    """A measured speed and what it rests on.

    Attributes:
        kmh: The speed.
        seconds: Time the track spans.
        metres: Distance the fitted motion covers in that time.
        samples: Track points used.
        residual_m: RMS distance of the points from the fitted uniform motion; a large one
            means a turning, accelerating or badly tracked vehicle.
    """

    kmh: float
    seconds: float
    metres: float
    samples: int
    residual_m: float


def measure_speed(
    track: Sequence[TrackPoint],
    calibration: Calibration,
    *,
    min_samples: int = 3,
    min_seconds: float = 0.3,
) -> SpeedEstimate:
    """The speed of a vehicle over ``track`` (its points in time order).

    Raises:
        InvalidInputError: Too few points, too short a time span, times that do not increase,
            or a coordinate that is not a finite number.
    """
    if len(track) < min_samples:
        raise InvalidInputError(
            f"a speed needs {min_samples} or more track points, got {len(track)}"
        )
    times = np.array([p.t for p in track], dtype=np.float64)
    pixels = np.array([p.image for p in track], dtype=np.float64)
    if not (np.isfinite(times).all() and np.isfinite(pixels).all()):
        raise InvalidInputError("track points must have finite times and coordinates")
    if np.any(np.diff(times) <= 0):
        raise InvalidInputError("track points must be in increasing time order")
    span = float(times[-1] - times[0])
    if span < min_seconds:
        raise InvalidInputError(f"the track spans {span:.2f} s; a speed needs {min_seconds} s")
    return uniform_motion(times, calibration.to_ground_many(pixels))


def uniform_motion(
    times: npt.NDArray[np.float64], ground: npt.NDArray[np.float64]
) -> SpeedEstimate:
    """The least-squares uniform motion through road positions (metres) at ``times``."""
    span = float(times[-1] - times[0])
    centred = times - times.mean()
    design = np.stack([centred, np.ones_like(centred)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, ground, rcond=None)
    velocity = coefficients[0]  # metres per second, east and north
    fitted = design @ coefficients
    residual = float(np.sqrt(np.mean(np.sum((ground - fitted) ** 2, axis=1))))
    speed = float(math.hypot(velocity[0], velocity[1]))
    return SpeedEstimate(
        kmh=speed * 3.6,
        seconds=span,
        metres=speed * span,
        samples=len(times),
        residual_m=residual,
    )


def ground_speed(positions: Sequence[tuple[float, Point]]) -> SpeedEstimate:
    """:func:`uniform_motion` over ``(t, (east, north))`` pairs in time order.

    Raises:
        InvalidInputError: Fewer than 2 positions or times that do not increase.
    """
    if len(positions) < 2:
        raise InvalidInputError("a speed needs 2 or more positions")
    times = np.array([t for t, _ in positions], dtype=np.float64)
    if np.any(np.diff(times) <= 0):
        raise InvalidInputError("positions must be in increasing time order")
    return uniform_motion(times, np.array([p for _, p in positions], dtype=np.float64))
