"""What a trip can break, and the violation record a check produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kupol.scooters.model import Position


class ViolationKind(StrEnum):
    """What a trip broke."""

    SPEEDING = "speeding"
    """Over the city-wide maximum (25 km/h)."""
    SLOW_ZONE_SPEEDING = "slow_zone_speeding"
    """Over a slow zone's limit."""
    SIDEWALK_SPEEDING = "sidewalk_speeding"
    """Over walking pace (6 km/h) on a sidewalk: a sidewalk zone, or a point the operator
    placed on a sidewalk."""
    NO_RIDE_ZONE = "no_ride_zone"
    NO_PARKING = "no_parking"
    """The trip ended inside a no-parking zone."""
    CURFEW = "curfew"
    UNDERAGE = "underage"
    UNLICENSED = "unlicensed"

    @property
    def speeding(self) -> bool:
        """Whether the kind is one of the speed limits (what the operator is fined for)."""
        return self in SPEED_KINDS


SPEED_KINDS = frozenset(
    {
        ViolationKind.SPEEDING,
        ViolationKind.SLOW_ZONE_SPEEDING,
        ViolationKind.SIDEWALK_SPEEDING,
    }
)


@dataclass(frozen=True, kw_only=True)
class ScooterViolation:
    """One violation of the city's rules on one trip."""

    kind: ViolationKind
    trip_id: str
    provider_id: str
    device_id: str
    plate: str | None
    rider_id: str | None
    at: datetime
    """When it began (UTC)."""
    position: Position
    """Where it began."""
    speed_kmh: float | None = None
    """Speeding: the median of the averaged speeds while over the limit."""
    limit_kmh: float | None = None
    zone: str | None = None
    duration_s: float | None = None
    """Speeding, a no-ride zone, a curfew: how long it lasted."""
    detail: str | None = None
