"""Which of Kazakhstan's regions a point lies in, from the map's region polygons.

The polygons are the offline map's (``web/static/geo/kz-regions.geojson``: 17 regions and the
3 cities of republican significance, 2022 boundaries, simplified to about 220 m), read once.
A point is inside a polygon when a ray from it crosses the polygon's rings an odd number of
times (even-odd over all its rings, so holes count), after a bounding-box test.

The cities are tested before the regions: Akmola, Almaty and Turkistan regions have holes for
Astana, Almaty and Shymkent, but a small part of Astana and one of Almaty lie inside their
regions with no hole for them (see ``PROVENANCE.md``), and those belong to the city.

Example:
    >>> regions = RegionMap.load()
    >>> regions.region_of(43.2389, 76.8897), regions.region_of(55.75, 37.62)
    ('02', None)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kupol.core.errors import ConfigError, InvalidInputError

FloatArray = npt.NDArray[np.float64]

REGION_POLYGONS = Path(__file__).parent.parent / "web" / "static" / "geo" / "kz-regions.geojson"
"""The map's region polygons (GeoJSON, longitude/latitude), shipped with the package."""

_CHUNK = 4096
"""Points tested at once against one polygon (bounds the edges × points arrays' memory)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class _Polygon:
    """One polygon of a region: its bounding box and the edges of all its rings."""

    plate_code: str
    west: float
    south: float
    east: float
    north: float
    x1: FloatArray = field(repr=False)
    y1: FloatArray = field(repr=False)
    x2: FloatArray = field(repr=False)
    y2: FloatArray = field(repr=False)

    def covers(self, lat: FloatArray, lon: FloatArray) -> npt.NDArray[np.bool_]:
        """Which of the points (all inside the bounding box) lie inside (even-odd rule)."""
        y1, y2 = self.y1[:, None], self.y2[:, None]
        straddles = (y1 > lat) != (y2 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = self.x1[:, None] + (lat - y1) * (self.x2 - self.x1)[:, None] / (y2 - y1)
        crossings = np.count_nonzero(straddles & (lon < cross), axis=0)
        return np.asarray(crossings % 2 == 1)


@dataclass(frozen=True, kw_only=True)
class RegionMap:
    """Kazakhstan's regions as polygons, cities first: finds the region of a point."""

    polygons: tuple[_Polygon, ...] = field(repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> RegionMap:
        """The regions of the shipped map, or of another GeoJSON file of the same kind
        (features with a ``plate_code`` and a ``type`` of ``city`` or ``region``); read once.

        Raises:
            ConfigError: The file is missing or is not such a GeoJSON file.
        """
        return _read(REGION_POLYGONS if path is None else path)

    def region_of(self, lat: float, lon: float) -> str | None:
        """The plate code of the region (``"02"`` Almaty city …) ``lat``, ``lon`` lies in, or
        ``None`` outside Kazakhstan.

        Raises:
            InvalidInputError: The coordinates are not a latitude and a longitude.

        Example:
            >>> RegionMap.load().region_of(51.1283, 71.4305)
            '01'
        """
        point_lat, point_lon = _coordinates([(lat, lon)])
        for polygon in self.polygons:  # the box test in plain Python: numpy's costs µs a call
            if (
                polygon.south <= lat <= polygon.north
                and polygon.west <= lon <= polygon.east
                and polygon.covers(point_lat, point_lon)[0]
            ):
                return polygon.plate_code
        return None

    def region_of_many(self, points: Iterable[tuple[float, float]]) -> list[str | None]:
        """The plate code of the region of each (latitude, longitude) point, ``None`` for
        those outside Kazakhstan; in one pass per polygon.

        Raises:
            InvalidInputError: A point is not a latitude and a longitude.

        Example:
            >>> RegionMap.load().region_of_many([(42.3417, 69.5901), (49.8047, 73.1094)])
            ['17', '09']
        """
        lat, lon = _coordinates(points)
        found: list[str | None] = [None] * len(lat)
        unfound = np.ones(len(lat), dtype=np.bool_)
        for polygon in self.polygons:
            candidates = np.flatnonzero(
                unfound
                & (lat >= polygon.south)
                & (lat <= polygon.north)
                & (lon >= polygon.west)
                & (lon <= polygon.east)
            )
            for start in range(0, len(candidates), _CHUNK):
                chunk = candidates[start : start + _CHUNK]
                inside = chunk[polygon.covers(lat[chunk], lon[chunk])]
                unfound[inside] = False
                for i in inside.tolist():
                    found[i] = polygon.plate_code
        return found


def _coordinates(points: Iterable[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
    try:
        array = np.asarray(list(points), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("points must be (latitude, longitude) pairs") from exc
    if array.shape == (0,):
        array = array.reshape(0, 2)
    if array.ndim != 2 or array.shape[1] != 2:
        raise InvalidInputError("points must be (latitude, longitude) pairs")
    lat, lon = array[:, 0], array[:, 1]
    if not (np.isfinite(array).all() and (np.abs(lat) <= 90).all() and (np.abs(lon) <= 180).all()):
        raise InvalidInputError("a latitude must lie in −90…90 and a longitude in −180…180")
    return lat, lon


@lru_cache(maxsize=4)
def _read(path: Path) -> RegionMap:
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = sorted(
            collection["features"],
            # Cities first: they win where a region has no hole for them.
            key=lambda f: (f["properties"].get("type") != "city", f["properties"]["plate_code"]),
        )
        polygons = tuple(
            _polygon(str(feature["properties"]["plate_code"]), rings)
            for feature in features
            for rings in _polygons_of(feature["geometry"])
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ConfigError(f"cannot read the region polygons from {path}: {exc}") from exc
    return RegionMap(polygons=polygons)


def _polygons_of(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"a region must be a Polygon or a MultiPolygon, not {geometry['type']}")


def _polygon(plate_code: str, rings: list[list[list[float]]]) -> _Polygon:
    # Every ring's edges in one array: ray casting over all of them is the even-odd rule.
    starts, ends = [], []
    for ring in rings:
        vertices = np.asarray(ring, dtype=np.float64)[:, :2]
        starts.append(vertices)
        ends.append(np.roll(vertices, -1, axis=0))  # closes the ring if it is not closed
    start, end = np.concatenate(starts), np.concatenate(ends)
    outer = np.asarray(rings[0], dtype=np.float64)[:, :2]
    return _Polygon(
        plate_code=plate_code,
        west=float(outer[:, 0].min()),
        south=float(outer[:, 1].min()),
        east=float(outer[:, 0].max()),
        north=float(outer[:, 1].max()),
        x1=start[:, 0],
        y1=start[:, 1],
        x2=end[:, 0],
        y2=end[:, 1],
    )
