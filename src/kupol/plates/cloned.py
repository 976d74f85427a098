"""Cloned plates: two sightings of one plate that no vehicle could drive between in the time.

The check is deliberately conservative — a cloned-plate alert sends officers after a car — so
it allows for the road being longer than the straight line (``detour``), for camera clocks
being a little off (``clock_skew_s``), and ignores cameras close together.

Example:
    >>> from datetime import datetime, timedelta, UTC
    >>> t = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    >>> astana = Sighting(plate="123ABC01", camera_id="ast", latitude=51.13, longitude=71.43, at=t)
    >>> almaty = Sighting(plate="123ABC01", camera_id="ala", latitude=43.24, longitude=76.95,
    ...                   at=t + timedelta(hours=1))
    >>> suspicion = implausible(astana, almaty)
    >>> round(suspicion.distance_km), round(suspicion.needed_speed_kmh)
    (971, 955)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, kw_only=True)
class Sighting:
    """A plate seen by a camera at a place and time."""

    plate: str
    camera_id: str
    latitude: float
    longitude: float
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CloneSuspicion:
    """Why two sightings of one plate cannot be one vehicle."""

    first: Sighting
    second: Sighting
    distance_km: float
    """Straight-line distance between the cameras."""
    hours: float
    needed_speed_kmh: float
    """The average speed (straight line) the vehicle would have needed."""


def distance_km(a: Sighting, b: Sighting) -> float:
    """Great-circle distance between two sightings' cameras (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def implausible(
    a: Sighting,
    b: Sighting,
    *,
    max_speed_kmh: float = 200.0,
    min_distance_km: float = 2.0,
    clock_skew_s: float = 60.0,
) -> CloneSuspicion | None:
    """A suspicion when one vehicle could not have been at both sightings, else ``None``.

    The vehicle gets the benefit of the doubt: the time between the sightings is stretched
    by ``clock_skew_s`` before the speed is computed, and cameras closer than
    ``min_distance_km`` never make a suspicion.
    """
    if a.plate != b.plate:
        raise ValueError("sightings of different plates")
    first, second = sorted((a, b), key=lambda s: s.at)
    distance = distance_km(first, second)
    if distance < min_distance_km:
        return None
    hours = ((second.at - first.at).total_seconds() + clock_skew_s) / 3600
    needed = distance / hours
    if needed <= max_speed_kmh:
        return None
    return CloneSuspicion(
        first=first,
        second=second,
        distance_km=distance,
        hours=(second.at - first.at).total_seconds() / 3600,
        needed_speed_kmh=needed,
    )


@dataclass(frozen=True, kw_only=True)
class ClonePolicy:
    """When two sightings of one plate make a possible cloned plate (``[plates]`` settings:
    ``max_speed_kmh``, ``clone_min_distance_km``, ``clone_clock_skew_s``)."""

    max_speed_kmh: float = 200.0
    min_distance_km: float = 2.0
    clock_skew_s: float = 60.0

    def judge(self, a: Sighting, b: Sighting) -> CloneSuspicion | None:
        """:func:`implausible` under this policy."""
        return implausible(
            a, b, max_speed_kmh=self.max_speed_kmh, min_distance_km=self.min_distance_km,
            clock_skew_s=self.clock_skew_s,
        )  # fmt: skip
