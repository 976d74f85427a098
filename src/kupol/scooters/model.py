"""The values of the e-scooter domain that cross module boundaries: positions, riders, routes,
trips, telemetry and events (what the MDS feeds carry, validated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from kupol.scooters.plates import ScooterPlate

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class Position:
    """A WGS 84 position in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, kw_only=True)
class Rider:
    """Who rode, as the operator knows them (an extension of MDS agreed with operators)."""

    rider_id: str
    birth_date: date | None = None
    licence: bool | None = None
    """Whether the rider holds a driving licence; ``None``: not reported."""

    def age_on(self, day: date) -> int | None:
        """Full years on ``day``; ``None`` without a birth date.

        Example:
            >>> Rider(rider_id="r", birth_date=date(2008, 7, 2)).age_on(date(2026, 7, 1))
            17
        """
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True, kw_only=True, eq=False)
class Route:
    """A trip's GPS points in time order, as arrays (one element per point)."""

    t_ms: IntArray
    """Milliseconds since the epoch, strictly increasing."""
    lat: FloatArray
    lon: FloatArray
    sidewalk: BoolArray | None = None
    """Whether the operator placed the point on a sidewalk (MDS ``location_type``)."""

    @classmethod
    def of(
        cls,
        t_ms: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        sidewalk: npt.ArrayLike | None = None,
    ) -> Route:
        """A route from points in any order: sorted by time, repeated times dropped.

        Example:
            >>> Route.of([2000, 1000, 1000], [51.1, 51.0, 51.2], [71.4, 71.4, 71.4]).t_ms
            array([1000, 2000])
        """
        times = np.asarray(t_ms, dtype=np.int64)
        lats, lons = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        if not times.shape == lats.shape == lons.shape or times.ndim != 1:
            raise ValueError("a route's times, latitudes and longitudes are 1-D, equally long")
        order = np.argsort(times, kind="stable")
        times = times[order]
        keep = np.ones(len(times), dtype=bool)
        keep[1:] = times[1:] != times[:-1]
        keep_at = order[keep]
        walk = None if sidewalk is None else np.asarray(sidewalk, dtype=bool)[keep_at]
        return cls(t_ms=times[keep], lat=lats[keep_at], lon=lons[keep_at], sidewalk=walk)

    def __len__(self) -> int:
        return len(self.t_ms)


@dataclass(frozen=True, kw_only=True)
class Trip:
    """One rental: an MDS trip, with the scooter's plate, the rider and the route if known."""

    provider_id: str
    device_id: str
    trip_id: str
    start_ms: int
    end_ms: int
    start_location: Position
    end_location: Position
    duration_s: int
    distance_m: float
    plate: ScooterPlate | None = None
    parking_category: str | None = None
    rider: Rider | None = None
    route: Route | None = field(default=None, compare=False)

    @property
    def start_time(self) -> datetime:
        """``start_ms`` as a UTC date-time."""
        return datetime.fromtimestamp(self.start_ms / 1000, UTC)

    @property
    def end_time(self) -> datetime:
        """``end_ms`` as a UTC date-time."""
        return datetime.fromtimestamp(self.end_ms / 1000, UTC)


@dataclass(frozen=True, kw_only=True)
class Telemetry:
    """One GPS point a vehicle reported (MDS telemetry)."""

    provider_id: str
    device_id: str
    telemetry_id: str
    t_ms: int
    position: Position
    trip_ids: tuple[str, ...] = ()
    location_type: str | None = None
    speed_mps: float | None = None
    battery_percent: int | None = None


@dataclass(frozen=True, kw_only=True)
class VehicleEvent:
    """A change of a vehicle's state (MDS event)."""

    provider_id: str
    device_id: str
    event_id: str
    t_ms: int
    vehicle_state: str
    event_types: tuple[str, ...]
    position: Position | None = None
    trip_ids: tuple[str, ...] = ()
