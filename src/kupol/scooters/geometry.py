"""Geometry on many points at once: great-circle distances and point-in-polygon as NumPy
operations over arrays of (latitude, longitude).

Polygons are tested in the longitude-latitude plane (a straight edge in degrees), like
:func:`kupol.core.geo.point_in_polygon` does for one point: for the city-sized zones of the
scooter rules the difference from a great-circle edge is centimetres.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kupol.core.geo import EARTH_RADIUS_M
from kupol.scooters.model import BoolArray, FloatArray

LatLon = tuple[float, float]


def haversine_m(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Great-circle distances in metres between points, element by element.

    The array form of :func:`kupol.core.geo.haversine_m`.

    Example:
        >>> a = np.array([51.1283]); b = np.array([71.4305])
        >>> haversine_m(a, b, a, b + 0.01).round()
        array([698.])
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    distance: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return distance


def _ring_contains(lat: FloatArray, lon: FloatArray, ring: Sequence[LatLon]) -> BoolArray:
    """Ray casting, one edge at a time over every point (a crossing to the east flips)."""
    inside = np.zeros(len(lat), dtype=bool)
    n = len(ring)
    for k in range(n):
        y1, x1 = ring[k]
        y2, x2 = ring[(k + 1) % n]
        if y1 == y2:
            continue  # a horizontal edge is never crossed by a horizontal ray
        spans = (y1 > lat) != (y2 > lat)
        cross = x1 + (lat - y1) * ((x2 - x1) / (y2 - y1))
        inside ^= spans & (lon < cross)
    return inside


def points_in_polygon(
    lat: FloatArray,
    lon: FloatArray,
    outer: Sequence[LatLon],
    holes: Sequence[Sequence[LatLon]] = (),
) -> BoolArray:
    """Which points lie inside a polygon (inside ``outer``, in none of its ``holes``).

    Only the points inside the polygon's bounding box are ray cast.

    Example:
        >>> square = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
        >>> points_in_polygon(np.array([0.5, 2.0]), np.array([0.5, 0.5]), square)
        array([ True, False])
    """
    ring = np.asarray(outer, dtype=np.float64)
    south, west = ring.min(axis=0)
    north, east = ring.max(axis=0)
    result = np.zeros(len(lat), dtype=bool)
    candidates = np.flatnonzero((lat >= south) & (lat <= north) & (lon >= west) & (lon <= east))
    if len(candidates) == 0:
        return result
    clat, clon = lat[candidates], lon[candidates]
    inside = _ring_contains(clat, clon, outer)
    for hole in holes:
        inside &= ~_ring_contains(clat, clon, hole)
    result[candidates] = inside
    return result
