"""Paths and speeds for the synthetic day's trips that break exactly the rules asked of them
(:mod:`kupol.scooters.generator`), in Astana's demonstration zones."""

from __future__ import annotations

import itertools

import numpy as np

from kupol.scooters.astana import EAST, NORTH, SOUTH, WEST, ZONES, RoundZone
from kupol.scooters.city import ZoneKind
from kupol.scooters.ride import Fixes, Path, cruise, ride, to_xy
from kupol.scooters.violations import ViolationKind as Kind

FloatArray = np.typing.NDArray[np.float64]


class Planner:
    """Draws paths and speeds that break exactly the rules asked of them."""

    def __init__(self, rng: np.random.Generator, noise_m: float, jump_share: float) -> None:
        self.rng, self.noise_m, self.jump_share = rng, noise_m, jump_share
        (self.x0, self.y0), (self.x1, self.y1) = to_xy(SOUTH, WEST), to_xy(NORTH, EAST)
        self.centres = {z.name: np.array(to_xy(z.lat, z.lon)) for z in ZONES}

    def point(self) -> FloatArray:
        """A random point in town, 300 m inside its edges."""
        m = 300.0
        return self.rng.uniform((self.x0 + m, self.y0 + m), (self.x1 - m, self.y1 - m))

    def _streets(self, *stops: FloatArray) -> Path:
        vertices = [stops[0]]
        for a, b in itertools.pairwise(stops):
            corner = (b[0], a[1]) if self.rng.random() < 0.5 else (a[0], b[1])
            vertices += [np.array(corner), b]
        return Path.through(np.array(vertices))

    def path(self, kind: Kind | None, target: RoundZone | None) -> Path:
        """A path for a trip breaking ``kind``: through or into ``target``, or anywhere."""
        rng = self.rng
        if target is not None and kind is not Kind.NO_PARKING:
            centre = self.centres[target.name]
            axes = [np.array(a) for a in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0))]
            into = axes[rng.integers(4)]
            out = [a for a in axes if not np.array_equal(a, -into)][rng.integers(3)]
            start, end = (
                centre - into * rng.uniform(500, 1500),
                centre + out * rng.uniform(500, 1500),
            )
            return Path.through(np.array([start, centre, end]))
        if target is not None:
            end = self.centres[target.name] + rng.normal(0, target.radius_m * 0.15, 2)
            return self._streets(end + rng.uniform(-2500, 2500, 2), end)
        start = self.point()
        length = rng.uniform(1800, 4500) if kind is Kind.SPEEDING else rng.uniform(800, 4000)
        angle = rng.uniform(0, 2 * np.pi)
        end = start + length * np.array([np.cos(angle), np.sin(angle)])
        if rng.random() < 0.3:
            side = rng.uniform(-400, 400) * np.array([-np.sin(angle), np.cos(angle)])
            return self._streets(start, (start + end) / 2 + side, end)
        return self._streets(start, end)

    def keeps_rules(self, path: Path, target: RoundZone | None) -> bool:
        """Whether the path stays in town, clear of the no-ride zones, not ending in a
        no-parking zone (the target aside)."""
        inside = (
            path.x.min() > self.x0 + 50
            and path.x.max() < self.x1 - 50
            and path.y.min() > self.y0 + 50
            and path.y.max() < self.y1 - 50
        )
        if not inside or path.length_m < 300:
            return False
        for zone in ZONES:
            if zone is target or zone.kind is ZoneKind.SLOW:
                continue
            x, y = self.centres[zone.name]
            if zone.kind is ZoneKind.NO_RIDE and path.distance_to(x, y).min() < zone.radius_m + 40:
                return False
            end = np.hypot(path.x[-1] - x, path.y[-1] - y)
            if zone.kind is ZoneKind.NO_PARKING and end < zone.radius_m + 80:
                return False
        return True

    def speeds(self, path: Path, kind: Kind | None, target: RoundZone | None) -> FloatArray | None:
        """The speed along the path: the slow zones walked or ridden slowly (the target
        fast), a speeding burst on a long straight leg; ``None`` when none fits."""
        rng = self.rng
        speed = cruise(path, rng, kmh=rng.uniform(10, 22), top_kmh=23)
        near_slow = np.zeros(path.length_m, dtype=bool)
        for zone in ZONES:
            if zone.kind is not ZoneKind.SLOW:
                continue
            distance = path.distance_to(*self.centres[zone.name])
            near_slow |= distance < zone.radius_m + 60
            if zone is target:
                fast = rng.uniform(13, 20) if zone.sidewalk else rng.uniform(22, 24)
                speed[distance < zone.radius_m] = fast / 3.6
            else:
                slow = rng.uniform(3.5, 5.5) if zone.sidewalk else rng.uniform(9, 14)
                near = distance < zone.radius_m + 25
                speed[near] = np.minimum(speed[near], slow / 3.6)
        if kind is not Kind.SPEEDING:
            return speed
        burst_kmh, seconds = rng.uniform(32, 40), rng.uniform(30, 90)
        ends = np.r_[0.0, path.corners_m, path.length_m]
        legs = np.diff(ends)
        leg = int(np.argmax(legs))
        room = legs[leg] - 160
        length = min(burst_kmh / 3.6 * seconds, room)
        if length < burst_kmh / 3.6 * 30:
            return None
        start = int(ends[leg] + 80 + rng.uniform(0, room - length))
        stretch = slice(start, start + int(length))
        if near_slow[stretch].any():
            return None
        speed[stretch] = burst_kmh / 3.6
        return speed

    def fixes(self, path: Path, speed: FloatArray) -> Fixes:
        """The ride's GPS fixes, every 1-5 s (drawn per trip)."""
        interval = float(self.rng.choice([1.0, 2.0, 3.0, 4.0, 5.0]))
        return ride(
            path,
            speed,
            self.rng,
            interval_s=interval,
            noise_m=self.noise_m,
            jump_share=self.jump_share,
        )
