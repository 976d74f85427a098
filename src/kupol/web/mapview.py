"""The camera map drawn as SVG on the server: Kazakhstan's regions and a marker per camera.

No tiles and no map library: the regions come from ``static/geo/kz-regions.geojson`` (when
it is there) and are projected with an equirectangular projection scaled at the country's
middle latitude, which is accurate enough for a situation-centre overview.

Example:
    >>> view = build_map(cameras=[], locale="en", geojson=None)
    >>> view.width, view.regions
    (1000, ())
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kupol.cameras.schemas import CameraRead

log = logging.getLogger(__name__)

GEOJSON = Path(__file__).parent / "static" / "geo" / "kz-regions.geojson"
# Kazakhstan's extent (west, south, east, north) with a small margin, in degrees.
KZ_BOUNDS = (46.0, 40.3, 87.6, 55.7)
WIDTH = 1000
PADDING = 12.0
CODE_KEYS = ("plate_code", "region_code", "code")
NAME_KEYS = ("name_{locale}", "NAME_{locale}", "name:{locale}", "name", "NAME_1", "shapeName")


@dataclass(frozen=True, kw_only=True)
class Projection:
    """Degrees to SVG units for a bounding box, north up, ``width`` units wide."""

    west: float
    south: float
    east: float
    north: float
    width: int = WIDTH

    @property
    def _kx(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    @property
    def scale(self) -> float:
        """SVG units per projected degree."""
        return (self.width - 2 * PADDING) / ((self.east - self.west) * self._kx)

    @property
    def height(self) -> int:
        """The SVG height that keeps the projection's proportions."""
        return math.ceil((self.north - self.south) * self.scale + 2 * PADDING)

    def point(self, longitude: float, latitude: float) -> tuple[float, float]:
        """SVG ``(x, y)`` of a position, rounded to a tenth of a unit."""
        x = PADDING + (longitude - self.west) * self._kx * self.scale
        y = PADDING + (self.north - latitude) * self.scale
        return round(x, 1), round(y, 1)

    def for_script(self) -> dict[str, float]:
        """The same projection as numbers for a page script that places points itself:
        ``x = padding + (longitude - west) * x_scale``, ``y = padding + (north - latitude) *
        y_scale``.

        Example:
            >>> p = Projection(west=46.0, south=40.3, east=87.6, north=55.7)
            >>> s = p.for_script()
            >>> p.point(71.4, 51.1) == (round(s["padding"] + (71.4 - s["west"]) * s["x_scale"], 1),
            ...                         round(s["padding"] + (s["north"] - 51.1) * s["y_scale"], 1))
            True
        """
        return {
            "west": self.west,
            "north": self.north,
            "padding": PADDING,
            "x_scale": self._kx * self.scale,
            "y_scale": self.scale,
        }


@dataclass(frozen=True, kw_only=True)
class Region:
    """One region outline: its name (for the tooltip), its code, and SVG path data.

    ``code`` is the two-digit region code cameras carry (``region_code``, 01-20); ``kind``
    is ``region`` or ``city`` (cities of republican significance are drawn on top).
    """

    name: str
    code: str
    kind: str
    path: str


@dataclass(frozen=True, kw_only=True)
class Marker:
    """A camera on the map."""

    camera: CameraRead
    x: float
    y: float


@dataclass(frozen=True, kw_only=True)
class MapView:
    """Everything the map template draws."""

    width: int
    height: int
    regions: tuple[Region, ...]
    markers: tuple[Marker, ...]
    has_basemap: bool

    def region_names(self) -> dict[str, str]:
        """Region code to name, for the camera details."""
        return {r.code: r.name for r in self.regions}


def country_projection() -> Projection:
    """The projection of the console's maps: Kazakhstan, ``WIDTH`` units wide."""
    return Projection(west=KZ_BOUNDS[0], south=KZ_BOUNDS[1], east=KZ_BOUNDS[2], north=KZ_BOUNDS[3])


def build_map(
    *, cameras: Iterable[CameraRead], locale: str, geojson: Path | None = GEOJSON
) -> MapView:
    """The map of ``cameras`` over the regions basemap (drawn without one if it is absent)."""
    regions: tuple[Region, ...] = ()
    projection = country_projection()
    if geojson is not None and geojson.is_file():
        try:
            regions = _regions(str(geojson), geojson.stat().st_mtime_ns, locale, projection)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("cannot draw the regions basemap %s: %s", geojson, exc)
    markers = tuple(
        Marker(camera=c, x=x, y=y)
        for c in cameras
        for x, y in [projection.point(c.longitude, c.latitude)]
    )
    return MapView(
        width=projection.width,
        height=projection.height,
        regions=regions,
        markers=markers,
        has_basemap=bool(regions),
    )


@lru_cache(maxsize=8)
def _regions(path: str, _mtime_ns: int, locale: str, projection: Projection) -> tuple[Region, ...]:
    # Keyed by modification time too, so a replaced file is drawn afresh.
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    features = data["features"] if data.get("type") == "FeatureCollection" else [data]
    regions = []
    for index, feature in enumerate(features):
        geometry = feature.get("geometry") or {}
        properties: Mapping[str, Any] = feature.get("properties") or {}
        d = "".join(_path(ring, projection) for ring in _rings(geometry))
        if d:
            code = next((properties[k] for k in CODE_KEYS if properties.get(k)), index)
            regions.append(
                Region(
                    name=region_name(properties, locale),
                    code=str(code),
                    kind=str(properties.get("type") or "region"),
                    path=d,
                )
            )
    return tuple(sorted(regions, key=lambda r: r.kind == "city"))


def region_name(properties: Mapping[str, Any], locale: str) -> str:
    """A region's name in ``locale`` if the GeoJSON has it, else whatever name it has.

    Example:
        >>> region_name({"name_kk": "Абай облысы", "name": "Abai"}, "kk")
        'Абай облысы'
    """
    for pattern in NAME_KEYS:
        value = properties.get(pattern.format(locale=locale))
        if value:
            return str(value)
    return ""


def _rings(geometry: Mapping[str, Any]) -> Iterator[Sequence[Sequence[float]]]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        yield from coordinates
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            yield from polygon
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries", []):
            yield from _rings(part)


def _path(ring: Sequence[Sequence[float]], projection: Projection) -> str:
    points: list[tuple[float, float]] = []
    for position in ring:
        xy = projection.point(float(position[0]), float(position[1]))
        if not points or points[-1] != xy:  # rounding merges points closer than 0.1 unit
            points.append(xy)
    if len(points) < 3:
        return ""
    head, *rest = (f"{x:g},{y:g}" for x, y in points)
    return f"M{head}L{' '.join(rest)}Z"
