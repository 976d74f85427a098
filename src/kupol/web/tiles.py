"""Map tiles for the portal's place picker, served by kupol itself (``/tiles/{z}/{x}/{y}.png``,
Web Mercator, 256 px): from a folder of tiles a deployment mounts (an offline tile pack laid
out ``z/x/y.png``), or, with none, drawn here from what kupol knows — Kazakhstan's regions
and, where the fleet's road graph is loaded, its streets and footpaths. Nothing is fetched
from the internet and the pages' content policy stays ``'self'``.

Example:
    >>> x, y = tile_of(51.1283, 71.4305, 13)
    >>> (x, y)
    (5721, 2737)
    >>> lat, lon = point_of(x + 0.5, y + 0.5, 13)
    >>> round(lat, 2), round(lon, 2)
    (51.14, 71.43)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

SIZE = 256
MAX_ZOOM = 18
LAND = (234, 241, 244)  # BGR: a pale sand
OUTSIDE = (228, 222, 214)  # beyond the border: a grey-blue
BORDER = (150, 120, 150)
STREET_CASING = (190, 190, 190)
STREET = (255, 255, 255)
PATH = (120, 170, 120)


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """The tile (x, y) holding a point at zoom ``z``."""
    fx, fy = _fraction(lat, lon)
    n = 1 << z
    return min(n - 1, int(fx * n)), min(n - 1, int(fy * n))


def point_of(x: float, y: float, z: int) -> tuple[float, float]:
    """The (latitude, longitude) of fractional tile coordinates at zoom ``z``."""
    n = 1 << z
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lat, lon


def _fraction(lat: float, lon: float) -> tuple[float, float]:
    lat = max(-85.0511, min(85.0511, lat))
    fx = (lon + 180.0) / 360.0
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return fx, fy


class FolderTiles:
    """Tiles from a folder laid out ``z/x/y.png``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        path = (self.root / str(z) / str(x) / f"{y}.png").resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path.read_bytes()


class DrawnTiles:
    """Tiles drawn from the regions' borders and the road graph's lines."""

    def __init__(self, regions: Path, roads: Path | None = None) -> None:
        self._regions = _rings(_features(regions))
        self._roads = _lines(_features(roads)) if roads is not None and roads.is_file() else []

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        return _drawn(self, z, x, y)

    def draw(self, z: int, x: int, y: int) -> NDArray[np.uint8]:
        image = np.full((SIZE, SIZE, 3), OUTSIDE, np.uint8)
        n = 1 << z

        def pixels(ring: NDArray[np.float64]) -> NDArray[np.int32]:
            return np.round((ring * n - (x, y)) * SIZE * 4).astype(np.int32)  # 2 bits of subpixel

        for ring in self._regions:
            cv2.fillPoly(image, [pixels(ring)], LAND, cv2.LINE_AA, shift=2)
        for ring in self._regions:
            cv2.polylines(image, [pixels(ring)], True, BORDER, 1, cv2.LINE_AA, shift=2)
        if z >= 12:
            width = max(1, z - 11)
            for line, vehicle in self._roads:
                if vehicle:
                    cv2.polylines(image, [pixels(line)], False, STREET_CASING, width + 2,
                                  cv2.LINE_AA, shift=2)  # fmt: skip
            for line, vehicle in self._roads:
                colour, thick = (STREET, width) if vehicle else (PATH, 1)
                cv2.polylines(image, [pixels(line)], False, colour, thick, cv2.LINE_AA, shift=2)
        return image


@lru_cache(maxsize=512)
def _drawn(source: DrawnTiles, z: int, x: int, y: int) -> bytes:
    ok, png = cv2.imencode(".png", source.draw(z, x, y))
    assert ok
    return bytes(png)


def _features(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("features", []))


def _projected(coordinates: list[list[float]]) -> NDArray[np.float64]:
    return np.array([_fraction(lat, lon) for lon, lat, *_ in coordinates], np.float64)


def _rings(features: list[dict[str, Any]]) -> list[NDArray[np.float64]]:
    rings = []
    for feature in features:
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates", [])
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            rings.append(_projected(polygon[0]))  # the outer ring: holes are cities, drawn too
    return rings


def _lines(features: list[dict[str, Any]]) -> list[tuple[NDArray[np.float64], bool]]:
    lines = []
    for feature in features:
        geometry = feature.get("geometry") or {}
        vehicle = bool((feature.get("properties") or {}).get("vehicle", True))
        for line in _line_parts(geometry):
            lines.append((_projected(line), vehicle))
    return lines


def _line_parts(geometry: dict[str, Any]) -> Iterator[list[list[float]]]:
    if geometry.get("type") == "LineString":
        yield geometry["coordinates"]
    elif geometry.get("type") == "MultiLineString":
        yield from geometry["coordinates"]
