"""The city's rules for rental e-scooters as values: zones, curfews, limits, and how noise is
told from violations. :mod:`kupol.scooters.rules` checks trips against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from functools import partial
from zoneinfo import ZoneInfo

from kupol.core.errors import InvalidInputError
from kupol.scooters.gbfs_zones import Geofencing, rule_for

LatLon = tuple[float, float]


class ZoneKind(StrEnum):
    """What a zone restricts: speed (slow), riding (no-ride) or ending a ride (no-parking)."""

    SLOW = "slow"
    NO_RIDE = "no_ride"
    NO_PARKING = "no_parking"


@dataclass(frozen=True, kw_only=True)
class Zone:
    """A zone of the city's rules: a polygon of (latitude, longitude), open or closed."""

    name: str
    kind: ZoneKind
    polygon: tuple[LatLon, ...]
    holes: tuple[tuple[LatLon, ...], ...] = ()
    max_speed_kmh: float | None = None
    """A slow zone's limit; a sidewalk zone without one gets the sidewalk limit."""
    sidewalk: bool = False
    """A slow zone that is a sidewalk or a pedestrian street (its speeding is sidewalk
    speeding)."""

    def __post_init__(self) -> None:
        if len(set(self.polygon)) < 3:
            raise InvalidInputError(f"zone {self.name!r}: a polygon needs 3 distinct points")
        if any(not (-90 <= lat <= 90 and -180 <= lon <= 180) for lat, lon in self.polygon):
            raise InvalidInputError(f"zone {self.name!r}: a point is not a latitude, longitude")
        if self.kind is ZoneKind.SLOW and not self.sidewalk and not self.max_speed_kmh:
            raise InvalidInputError(f"slow zone {self.name!r} needs max_speed_kmh")


@dataclass(frozen=True, kw_only=True)
class Curfew:
    """No riding from ``start`` to ``end`` local time (an ``end`` before ``start`` is the next
    morning)."""

    start: time
    end: time
    name: str = "curfew"

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidInputError(f"{self.name}: start and end are the same time")

    def windows(self, day_start_s: int) -> tuple[int, int]:
        """The window that begins on the local day starting at ``day_start_s``, in the same
        local seconds."""
        start = day_start_s + self.start.hour * 3600 + self.start.minute * 60 + self.start.second
        end = day_start_s + self.end.hour * 3600 + self.end.minute * 60 + self.end.second
        return start, end if end > start else end + 86_400


@dataclass(frozen=True, kw_only=True)
class CityRules:
    """A city's rules for rental e-scooters.

    The defaults are the issue's reading of the 2026 rules (25 km/h maximum, 6 km/h on
    sidewalks, riders of 18 and over with a licence): check them against the published text.
    """

    zones: tuple[Zone, ...] = ()
    curfews: tuple[Curfew, ...] = ()
    max_speed_kmh: float = 25.0
    sidewalk_max_kmh: float = 6.0
    timezone: str = "Asia/Almaty"
    min_age: int = 18
    licence_required: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.sidewalk_max_kmh <= self.max_speed_kmh:
            raise InvalidInputError("sidewalk_max_kmh must be above 0 and up to max_speed_kmh")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError) as exc:
            raise InvalidInputError(f"{self.timezone!r} is not an IANA time zone") from exc

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone (curfews, riders' ages)."""
        return ZoneInfo(self.timezone)

    def zones_of(self, kind: ZoneKind) -> tuple[Zone, ...]:
        """The zones of one kind, in order."""
        return tuple(z for z in self.zones if z.kind is kind)

    def zone_limit(self, zone: Zone) -> float:
        """A slow zone's limit (a sidewalk zone: its own or the sidewalk limit)."""
        if zone.max_speed_kmh is not None:
            return zone.max_speed_kmh
        return self.sidewalk_max_kmh


@dataclass(frozen=True, kw_only=True)
class Detection:
    """How violations are told from GPS noise (the reasons: :mod:`kupol.scooters.rules`)."""

    window_s: float = 10.0
    """Speeds are averaged from each point to the first one at least this much later."""
    sustained_s: float = 10.0
    """Every window starting over this much riding must be over the limit."""
    tolerance_kmh: float = 3.0
    """How far over the limit a window must be."""
    zone_dwell_s: float = 5.0
    """How long consecutive points must stay in a no-ride zone (two points at least)."""
    curfew_grace_s: float = 60.0
    """How much of a trip may fall within a curfew."""


def zones_from_gbfs(feed: Geofencing, *, vehicle_type_id: str | None = None) -> tuple[Zone, ...]:
    """The city's zones from an operator's GBFS geofencing: a zone one may not ride through is
    no-ride; one where a ride may not end is no-parking; a maximum speed makes it slow.

    Zones with no rule for ``vehicle_type_id`` are left out.
    """
    zones = []
    for i, fence in enumerate(feed.accepted):
        rule = rule_for(fence.rules, vehicle_type_id)
        if rule is None:
            continue
        name = fence.name or f"zone {i + 1}"
        for k, polygon in enumerate(fence.polygons):
            label = name if len(fence.polygons) == 1 else f"{name} ({k + 1})"
            shape = partial(Zone, name=label, polygon=polygon.outer, holes=polygon.holes)
            if not rule.ride_through_allowed:
                zones.append(shape(kind=ZoneKind.NO_RIDE))
                continue
            if not rule.ride_end_allowed:
                zones.append(shape(kind=ZoneKind.NO_PARKING))
            if rule.maximum_speed_kph is not None:
                zones.append(shape(kind=ZoneKind.SLOW, max_speed_kmh=rule.maximum_speed_kph))
    return tuple(zones)
