"""Hand-made trips for the scooter tests: straight rides east at set speeds, exact or noisy."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kupol.core.geo import EARTH_RADIUS_M
from kupol.scooters.city import Zone, ZoneKind
from kupol.scooters.model import Position, Rider, Route, Trip
from kupol.scooters.plates import parse_scooter_plate

T0 = 1_784_095_200_000
"""2026-07-15 06:00 UTC: 11:00 in Astana."""
START = (51.14, 71.44)
PROVIDER = "8a7f5c3e-1b2d-4c5e-9f60-7a8b9c0d1e2f"
DEVICE = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def east(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` east of (lat, lon)."""
    return lat, lon + math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(lat))))


def route(
    legs: Sequence[tuple[float, float]],
    *,
    start: tuple[float, float] = START,
    t0_ms: int = T0,
    interval_s: float = 1.0,
    noise_m: float = 0.0,
    seed: int = 0,
) -> Route:
    """A ride east from ``start``: legs of (km/h, seconds), a fix every ``interval_s``."""
    speeds = np.concatenate([np.full(round(s / interval_s), kmh / 3.6) for kmh, s in legs])
    along = np.r_[0.0, np.cumsum(speeds * interval_s)]
    rng = np.random.default_rng(seed)
    metres_east = along + rng.normal(0, noise_m, len(along)) if noise_m else along
    metres_north = rng.normal(0, noise_m, len(along)) if noise_m else np.zeros(len(along))
    lat = start[0] + np.degrees(metres_north / EARTH_RADIUS_M)
    lon = np.array([east(start[0], start[1], m)[1] for m in metres_east])
    t = t0_ms + np.round(np.arange(len(along)) * interval_s * 1000).astype(np.int64)
    return Route.of(t, lat, lon)


def trip(
    path: Route | None = None,
    *,
    trip_id: str = "trip-1",
    start_ms: int | None = None,
    end_ms: int | None = None,
    end: tuple[float, float] | None = None,
    rider: Rider | None = None,
    provider_id: str = PROVIDER,
) -> Trip:
    """A trip over ``path`` (or, without one, from START to ``end``, 10 minutes from T0)."""
    if path is not None:
        first, last = (path.lat[0], path.lon[0]), (path.lat[-1], path.lon[-1])
        start_ms = int(path.t_ms[0]) if start_ms is None else start_ms
        end_ms = int(path.t_ms[-1]) if end_ms is None else end_ms
    else:
        first, last = START, end or east(*START, 2000)
        start_ms = T0 if start_ms is None else start_ms
        end_ms = start_ms + 600_000 if end_ms is None else end_ms
    return Trip(
        provider_id=provider_id,
        device_id=DEVICE,
        trip_id=trip_id,
        start_ms=start_ms,
        end_ms=end_ms,
        start_location=Position(lat=float(first[0]), lon=float(first[1])),
        end_location=Position(lat=float(last[0]), lon=float(last[1])),
        duration_s=(end_ms - start_ms) // 1000,
        distance_m=2000,
        plate=parse_scooter_plate("W123"),
        rider=rider,
        route=path,
    )


def square(
    name: str,
    kind: ZoneKind,
    centre: tuple[float, float],
    half_m: float,
    *,
    max_speed_kmh: float | None = None,
    sidewalk: bool = False,
) -> Zone:
    """A square zone ``2 * half_m`` wide around ``centre``."""
    dlat = math.degrees(half_m / EARTH_RADIUS_M)
    dlon = east(*centre, half_m)[1] - centre[1]
    lat, lon = centre
    polygon = (
        (lat - dlat, lon - dlon),
        (lat - dlat, lon + dlon),
        (lat + dlat, lon + dlon),
        (lat + dlat, lon - dlon),
    )
    return Zone(
        name=name, kind=kind, polygon=polygon, max_speed_kmh=max_speed_kmh, sidewalk=sidewalk
    )
