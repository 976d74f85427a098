"""Geofences and the checks a mission and a unit's position go through.

A geofence is a polygon of (latitude, longitude) points: a **no-fly** zone (an airport's
approach, a government quarter: no unit may enter it) or a **patrol area** (a mission given
one must stay inside it). The checks work on a local flat projection (metres east and north of
the polygon's first point), exact enough for areas a few tens of kilometres across.

A path *enters* a no-fly zone when a waypoint lies inside it or a leg crosses its edge — a
leg that passes straight through a small zone between two waypoints outside it is caught.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from kupol.core.errors import InvalidInputError
from kupol.core.geo import point_in_polygon

LatLon = tuple[float, float]
KINDS = ("no_fly", "patrol_area")
MAX_POINTS = 500


@dataclass(frozen=True)
class Fence:
    """A geofence as checked."""

    name: str
    kind: str
    polygon: tuple[LatLon, ...]

    @cached_property
    def _ring(self) -> list[tuple[float, float]]:
        return [self._project(p) for p in self.polygon]

    def _project(self, p: LatLon) -> tuple[float, float]:
        lat0, lon0 = self.polygon[0]
        x = math.radians(p[1] - lon0) * 6_371_008.8 * math.cos(math.radians(lat0))
        y = math.radians(p[0] - lat0) * 6_371_008.8
        return x, y

    def contains(self, point: LatLon) -> bool:
        """Whether ``point`` lies inside the fence."""
        return point_in_polygon(self._project(point), self._ring)

    def crosses(self, a: LatLon, b: LatLon) -> bool:
        """Whether the leg from ``a`` to ``b`` crosses the fence's edge."""
        pa, pb = self._project(a), self._project(b)
        ring = self._ring
        return any(
            _segments_cross(pa, pb, ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))
        )

    def entered_by(self, path: Sequence[LatLon]) -> bool:
        """Whether a path (waypoints joined by straight legs) enters the fence."""
        if any(self.contains(p) for p in path):
            return True
        return any(self.crosses(a, b) for a, b in itertools.pairwise(path))

    def holds(self, path: Sequence[LatLon]) -> bool:
        """Whether a path stays inside the fence (every waypoint in, no leg crossing out)."""
        return all(self.contains(p) for p in path) and not any(
            self.crosses(a, b) for a, b in itertools.pairwise(path)
        )


def _orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _segments_cross(
    p1: tuple[float, float], p2: tuple[float, float], q1: tuple[float, float],
    q2: tuple[float, float],
) -> bool:  # fmt: skip
    """Whether two segments intersect (touching counts)."""
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and d1 and d2 and d3 and d4:
        return True

    def on(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(
            a[1], b[1]
        )

    return (
        (d1 == 0 and on(q1, q2, p1))
        or (d2 == 0 and on(q1, q2, p2))
        or (d3 == 0 and on(p1, p2, q1))
        or (d4 == 0 and on(p1, p2, q2))
    )


def check_polygon(points: Sequence[Sequence[float]]) -> tuple[LatLon, ...]:
    """A polygon as (lat, lon) tuples, checked.

    Raises:
        InvalidInputError: fewer than three points, more than 500, a point out of range, an
            outline that crosses itself, or an area of (almost) nothing.
    """
    if not 3 <= len(points) <= MAX_POINTS:
        raise InvalidInputError(f"a polygon needs 3 to {MAX_POINTS} points")
    polygon = []
    for point in points:
        if len(point) != 2:
            raise InvalidInputError("each point is [latitude, longitude]")
        lat, lon = float(point[0]), float(point[1])
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):  # fmt: skip
            raise InvalidInputError(f"{lat}, {lon} is not a latitude and longitude")
        polygon.append((lat, lon))
    if polygon[0] == polygon[-1]:
        polygon.pop()  # closed rings are accepted; kept open
    fence = Fence("", "no_fly", tuple(polygon))
    ring = [fence._project(p) for p in polygon]
    area = abs(
        sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))
    )
    crossing = _self_crossing(ring)
    if crossing is not None:
        raise InvalidInputError(
            f"the outline crosses itself (edges {crossing[0] + 1} and {crossing[1] + 1}): "
            "click the corners in order around the area"
        )
    if len(polygon) < 3 or area / 2 < 1.0:
        raise InvalidInputError("the polygon encloses no area")
    return tuple(polygon)


def _self_crossing(ring: Sequence[tuple[float, float]]) -> tuple[int, int] | None:
    """The first two non-adjacent edges of a closed ring that cross, if any (O(n²): a fence
    has at most 500 corners)."""

    def side(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    n = len(ring)
    edges = [(ring[i], ring[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        a, b = edges[i]
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # the last edge meets the first at the first corner
            c, d = edges[j]
            if (side(a, b, c) * side(a, b, d) < 0) and (side(c, d, a) * side(c, d, b) < 0):
                return i, j
    return None
