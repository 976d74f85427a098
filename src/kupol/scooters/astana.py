"""A demonstration city: Astana's centre (51.09–51.18 N, 71.38–71.50 E) with zones of the
kinds the rules know, for the synthetic day (:mod:`kupol.scooters.generator`), the tests and
the benchmark.

The zones are **illustrative**, not the akimat's: round areas (12-sided polygons) around
well-known places, at approximate positions. A curfew from 23:00 to 06:00 stands for the
night bans some cities set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time

from kupol.core.geo import EARTH_RADIUS_M
from kupol.scooters.city import CityRules, Curfew, Zone, ZoneKind

SOUTH, NORTH, WEST, EAST = 51.09, 51.18, 71.38, 71.50
"""The area trips are generated in."""
SIDES = 12


@dataclass(frozen=True, kw_only=True)
class RoundZone:
    """A zone as a centre and a radius (its polygon's corners lie on the circle)."""

    name: str
    kind: ZoneKind
    lat: float
    lon: float
    radius_m: float
    max_speed_kmh: float | None = None
    sidewalk: bool = False

    @property
    def inner_radius_m(self) -> float:
        """The radius of the circle inside the polygon: every point nearer is inside."""
        return self.radius_m * math.cos(math.pi / SIDES)

    def zone(self) -> Zone:
        """The zone as the rules check it."""
        k = 180 / math.pi / EARTH_RADIUS_M
        polygon = tuple(
            (
                self.lat + self.radius_m * math.sin(a) * k,
                self.lon + self.radius_m * math.cos(a) * k / math.cos(math.radians(self.lat)),
            )
            for a in (2 * math.pi * i / SIDES for i in range(SIDES))
        )
        return Zone(
            name=self.name,
            kind=self.kind,
            polygon=polygon,
            max_speed_kmh=self.max_speed_kmh,
            sidewalk=self.sidewalk,
        )


ZONES = (
    RoundZone(name="Ак Орда", kind=ZoneKind.NO_RIDE, lat=51.1258, lon=71.4465, radius_m=300),
    RoundZone(
        name="Площадь «Қазақ елі»", kind=ZoneKind.NO_RIDE, lat=51.1225, lon=71.4715, radius_m=220
    ),
    RoundZone(
        name="Бәйтерек, Нұржол бульвары",
        kind=ZoneKind.SLOW,
        lat=51.1283,
        lon=71.4305,
        radius_m=260,
        sidewalk=True,
    ),
    RoundZone(
        name="Центральный парк",
        kind=ZoneKind.SLOW,
        lat=51.1540,
        lon=71.4195,
        radius_m=400,
        max_speed_kmh=15,
    ),
    RoundZone(name="Хан Шатыр", kind=ZoneKind.NO_PARKING, lat=51.1326, lon=71.4037, radius_m=200),
    RoundZone(
        name="Астана Арена", kind=ZoneKind.NO_PARKING, lat=51.1082, lon=71.4025, radius_m=250
    ),
)
CURFEW = Curfew(start=time(23, 0), end=time(6, 0), name="night curfew 23:00-06:00")


def astana_rules() -> CityRules:
    """The demonstration rules: the city-wide 25 km/h, 6 km/h on sidewalks, :data:`ZONES`,
    the night curfew, riders of 18 and over with a licence."""
    return CityRules(zones=tuple(z.zone() for z in ZONES), curfews=(CURFEW,))
