"""One simulated ride: a street path, a speed along it, and what the scooter's GPS reports.

The path is a polyline in metres east (x) and north (y) of :data:`ORIGIN`. The speed is set
along the path, metre by metre: a cruising speed that drifts slowly, braking into corners and
at both ends (0.8 m/s²), stops at some corners (a red light), and whatever caps or bursts the
caller sets on stretches of it. The GPS samples the ride every ``interval_s`` (with a little
jitter and an occasional missed fix), ``noise_m`` off in each axis, and now and then jumps
tens of metres for one fix (``jump_share``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kupol.core.geo import EARTH_RADIUS_M
from kupol.scooters.model import FloatArray

ORIGIN = (51.135, 71.44)
"""Where x = y = 0."""
_M_PER_DEG_LAT = np.pi / 180 * EARTH_RADIUS_M
_M_PER_DEG_LON = _M_PER_DEG_LAT * np.cos(np.radians(ORIGIN[0]))
BRAKING_MPS2 = 0.8
CORNER_MPS = 2.5


def to_xy(lat: float, lon: float) -> tuple[float, float]:
    """Metres east and north of :data:`ORIGIN`."""
    return (lon - ORIGIN[1]) * _M_PER_DEG_LON, (lat - ORIGIN[0]) * _M_PER_DEG_LAT


def to_latlon(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Latitudes and longitudes of points in metres east and north of :data:`ORIGIN`."""
    return ORIGIN[0] + y / _M_PER_DEG_LAT, ORIGIN[1] + x / _M_PER_DEG_LON


@dataclass(frozen=True, kw_only=True, eq=False)
class Path:
    """A polyline sampled every metre: ``x``, ``y`` of each metre mark."""

    vertices: FloatArray
    """(n, 2) corners in metres."""
    x: FloatArray
    y: FloatArray
    corners_m: FloatArray
    """Distance along the path of each inner corner."""

    @classmethod
    def through(cls, vertices: FloatArray) -> Path:
        """The path along ``vertices`` ((n, 2) metres), sampled every metre."""
        legs = np.hypot(*np.diff(vertices, axis=0).T)
        keep = np.r_[True, legs > 0.5]
        vertices = vertices[keep]
        along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(vertices, axis=0).T))]
        marks = np.arange(0.0, along[-1], 1.0)
        x, y = np.interp(marks, along, vertices[:, 0]), np.interp(marks, along, vertices[:, 1])
        return cls(vertices=vertices, x=x, y=y, corners_m=along[1:-1])

    @property
    def length_m(self) -> int:
        """The path's length in whole metres."""
        return len(self.x)

    def distance_to(self, x: float, y: float) -> FloatArray:
        """Each metre mark's distance from a point."""
        distance: FloatArray = np.hypot(self.x - x, self.y - y)
        return distance


@dataclass(frozen=True, kw_only=True, eq=False)
class Fixes:
    """What the GPS reported: times (ms after the start) and positions."""

    t_ms: np.typing.NDArray[np.int64]
    lat: FloatArray
    lon: FloatArray


def cruise(path: Path, rng: np.random.Generator, *, kmh: float, top_kmh: float) -> FloatArray:
    """A speed (m/s) for each metre: ``kmh`` drifting by about a km/h, never over ``top_kmh``."""
    knots = np.arange(0, path.length_m + 100, 100.0)
    drift = rng.normal(0.0, 1.0, len(knots)).clip(-2.0, 1.5)
    kmhs = np.minimum(kmh + np.interp(np.arange(path.length_m), knots, drift), top_kmh)
    speed: FloatArray = kmhs / 3.6
    return speed


def ride(
    path: Path,
    speed_mps: FloatArray,
    rng: np.random.Generator,
    *,
    interval_s: float,
    noise_m: float,
    jump_share: float,
    stop_share: float = 0.35,
) -> Fixes:
    """The fixes of a ride along ``path`` at ``speed_mps`` (one value per metre)."""
    marks = np.arange(path.length_m, dtype=np.float64)
    limit = np.sqrt(2 * BRAKING_MPS2 * (marks + 1.0))
    limit = np.minimum(limit, np.sqrt(2 * BRAKING_MPS2 * (path.length_m - marks)))
    for corner in path.corners_m:
        limit = np.minimum(limit, np.sqrt(CORNER_MPS**2 + 2 * BRAKING_MPS2 * abs(marks - corner)))
    speed = np.maximum(np.minimum(speed_mps, limit), 0.3)
    elapsed = np.r_[0.0, np.cumsum(1.0 / speed[:-1])]
    for corner in path.corners_m[rng.random(len(path.corners_m)) < stop_share]:
        elapsed[marks >= corner] += rng.uniform(5, 40)
    times = np.arange(0.0, elapsed[-1], interval_s) + rng.uniform(0, 0.3, 1)
    times = times[(rng.random(len(times)) > 0.02) & (times < elapsed[-1])]
    times = np.r_[0.0, times, elapsed[-1]]
    along = np.interp(times, elapsed, marks)
    x = np.interp(along, marks, path.x) + rng.normal(0, noise_m, len(times))
    y = np.interp(along, marks, path.y) + rng.normal(0, noise_m, len(times))
    jumps = np.flatnonzero(rng.random(len(times)) < jump_share)
    angle, reach = rng.uniform(0, 2 * np.pi, len(jumps)), rng.uniform(20, 50, len(jumps))
    x[jumps] += reach * np.cos(angle)
    y[jumps] += reach * np.sin(angle)
    lat, lon = to_latlon(x, y)
    return Fixes(t_ms=np.round(times * 1000).astype(np.int64), lat=lat, lon=lon)
