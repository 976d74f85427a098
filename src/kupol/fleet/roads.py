"""The road graph units are routed over, and travel times on it.

The graph comes from a GeoJSON file of ``LineString`` (or ``MultiLineString``) features — a
city's road centre lines exported from its GIS or OpenStreetMap — with optional properties
``speed_kmh`` (default 40), ``oneway`` (true: only in the line's direction), ``foot``
(false: no walking, a motorway) and ``vehicle`` (false: a footpath — a park's paths, a
pedestrian street — walked but never driven). Line ends and shared vertices (to 1e-6°,
about 0.1 m) are junctions. :func:`grid_city` makes a synthetic one (a grid with faster
arterials) for tests and the demo.

A route runs from a point to the nearest junction in a straight line, over the graph, and from
the junction nearest the destination to it, each part at the unit's pace: on a road a car goes
at the road's speed or its own top speed, whichever is lower, and never on a footpath; a walker
or a robot dog at its own pace, on footpaths too, and never on a road closed to walkers.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kupol.core.errors import InvalidInputError
from kupol.core.geo import haversine_m

LatLon = tuple[float, float]
DEFAULT_SPEED_KMH = 40.0


@dataclass(frozen=True)
class Route:
    """A unit's way to a place."""

    seconds: float
    metres: float
    path: list[LatLon]


class RoadGraph:
    """Junctions and the roads between them (a directed networkx graph)."""

    def __init__(self) -> None:
        import networkx as nx

        self.graph = nx.DiGraph()
        # Junctions by ~1 km cell, for each way of travelling: a car starts from a junction
        # it can drive from, a walker from one it can walk from.
        self._cells: dict[bool, dict[tuple[int, int], list[LatLon]]] = {True: {}, False: {}}

    @property
    def junctions(self) -> int:
        return int(self.graph.number_of_nodes())

    def add_road(
        self, points: Sequence[LatLon], *, speed_kmh: float = DEFAULT_SPEED_KMH,
        oneway: bool = False, foot: bool = True, vehicle: bool = True,
    ) -> None:  # fmt: skip
        """Add a road (or, with ``vehicle=False``, a footpath) through ``points`` (lat, lon)."""
        if not (math.isfinite(speed_kmh) and 1 <= speed_kmh <= 200):
            raise InvalidInputError("a road's speed_kmh must be between 1 and 200")
        nodes = [(round(p[0], 6), round(p[1], 6)) for p in points]
        for a, b in itertools.pairwise(nodes):
            if a == b:
                continue
            length = haversine_m(a, b)
            for u, v in ((a, b),) if oneway else ((a, b), (b, a)):
                self.graph.add_edge(u, v, metres=length, speed=speed_kmh / 3.6, foot=foot,
                                    vehicle=vehicle)  # fmt: skip
            for node in (a, b):
                cell = self._cell(node)
                for car, allowed in ((True, vehicle), (False, foot)):
                    cells = self._cells[car]
                    if allowed and node not in cells.setdefault(cell, []):
                        cells[cell].append(node)

    @staticmethod
    def _cell(p: LatLon) -> tuple[int, int]:
        return (math.floor(p[0] * 100), math.floor(p[1] * 100))  # about 1 km

    def nearest(self, point: LatLon, *, car: bool = True) -> LatLon | None:
        """The junction nearest ``point`` that a car (``car``) or a walker can set off from
        (searching outwards from its ~1 km cell)."""
        cells = self._cells[car]
        if not any(cells.values()):
            return None
        ci, cj = self._cell(point)
        best, best_d = None, math.inf
        for radius in range(0, 50):
            ring = [
                (ci + di, cj + dj)
                for di in range(-radius, radius + 1)
                for dj in range(-radius, radius + 1)
                if max(abs(di), abs(dj)) == radius
            ]
            for cell in ring:
                for node in cells.get(cell, ()):
                    d = haversine_m(point, node)
                    if d < best_d:
                        best, best_d = node, d
            if best is not None and best_d < radius * 700:  # no nearer cell can beat it
                break
        return best

    def route(self, start: LatLon, end: LatLon, *, pace_mps: float, car: bool) -> Route | None:
        """The quickest way from ``start`` to ``end``; None when the graph does not connect
        them (or is empty). ``car``: roads at their speed (capped at ``pace_mps``); otherwise
        walking at ``pace_mps`` on roads open to walkers."""
        import networkx as nx

        a, b = self.nearest(start, car=car), self.nearest(end, car=car)
        if a is None or b is None:
            return None
        walk = min(pace_mps, 1.5) if car else pace_mps  # a car's crew walks the last metres

        def weight(_u: Any, _v: Any, edge: dict[str, Any]) -> float | None:
            if not (edge["vehicle"] if car else edge["foot"]):  # closed to this unit
                return None
            speed = min(edge["speed"], pace_mps) if car else pace_mps
            return float(edge["metres"]) / speed

        try:
            path = nx.shortest_path(self.graph, a, b, weight=weight)
        except nx.NetworkXNoPath:
            return None
        seconds = haversine_m(start, a) / walk + haversine_m(b, end) / walk
        metres = haversine_m(start, a) + haversine_m(b, end)
        for u, v in itertools.pairwise(path):
            edge = self.graph.edges[u, v]
            metres += edge["metres"]
            seconds += edge["metres"] / (min(edge["speed"], pace_mps) if car else pace_mps)
        return Route(seconds=seconds, metres=metres, path=[start, *path, end])

    def segments(self) -> Iterator[tuple[LatLon, LatLon, dict[str, Any]]]:
        """Each street segment once (a two-way street's two directions as one)."""
        for u, v, edge in self.graph.edges(data=True):
            if u > v and self.graph.has_edge(v, u):
                continue
            yield u, v, edge

    def to_geojson(self) -> dict[str, Any]:
        """The graph as a GeoJSON FeatureCollection that :func:`load_geojson` reads back."""
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[u[1], u[0]], [v[1], v[0]]]},
                    "properties": {
                        "speed_kmh": round(edge["speed"] * 3.6, 3),
                        "foot": edge["foot"],
                        "vehicle": edge["vehicle"],
                        "oneway": not self.graph.has_edge(v, u),
                    },
                }
                for u, v, edge in self.segments()
            ],
        }

    def matrix(self, points: Sequence[LatLon], *, pace_mps: float, car: bool) -> list[list[float]]:
        """Travel seconds between every two of ``points`` (as :meth:`route` reckons them; one
        Dijkstra per point; ``inf`` where the graph does not connect them)."""
        import networkx as nx

        walk = min(pace_mps, 1.5) if car else pace_mps
        near = [self.nearest(p, car=car) for p in points]
        access = [haversine_m(p, j) / walk if j is not None else math.inf
                  for p, j in zip(points, near, strict=True)]  # fmt: skip

        def weight(_u: Any, _v: Any, edge: dict[str, Any]) -> float | None:
            if not (edge["vehicle"] if car else edge["foot"]):  # closed to this unit
                return None
            return float(edge["metres"]) / (min(edge["speed"], pace_mps) if car else pace_mps)

        out = []
        for i, a in enumerate(near):
            if a is None:
                out.append([math.inf] * len(points))
                continue
            reach = nx.single_source_dijkstra_path_length(self.graph, a, weight=weight)
            row = []
            for j, b in enumerate(near):
                if i == j:
                    row.append(0.0)
                elif b is None or b not in reach:
                    row.append(math.inf)
                else:
                    row.append(access[i] + float(reach[b]) + access[j])
            out.append(row)
        return out


def load_geojson(path: Path) -> RoadGraph:
    """A road graph from a GeoJSON file (see the module).

    Raises:
        InvalidInputError: not readable, not GeoJSON, or no line in it; the message names the
            feature at fault.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: cannot read the road graph ({exc})") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InvalidInputError(f"{path}: not a GeoJSON FeatureCollection")
    graph = RoadGraph()
    for n, feature in enumerate(features, start=1):
        geometry = (feature or {}).get("geometry") or {}
        props = (feature or {}).get("properties") or {}
        kind, coords = geometry.get("type"), geometry.get("coordinates")
        lines: Iterable[Any] = (
            [coords]
            if kind == "LineString"
            else (coords or [])
            if kind == "MultiLineString"
            else []
        )
        for line in lines:
            try:
                points = [(float(c[1]), float(c[0])) for c in line]  # GeoJSON: lon, lat
                graph.add_road(
                    points, speed_kmh=float(props.get("speed_kmh", DEFAULT_SPEED_KMH)),
                    oneway=bool(props.get("oneway", False)), foot=bool(props.get("foot", True)),
                    vehicle=bool(props.get("vehicle", True)),
                )  # fmt: skip
            except (TypeError, ValueError, IndexError, InvalidInputError) as exc:
                raise InvalidInputError(f"{path}: feature {n}: {exc}") from exc
    if graph.junctions == 0:
        raise InvalidInputError(f"{path}: no LineString in it")
    return graph


def grid_city(
    origin: LatLon, *, rows: int = 12, cols: int = 12, spacing_m: float = 250.0,
    arterial_every: int = 4, street_kmh: float = 30.0, arterial_kmh: float = 60.0,
) -> RoadGraph:  # fmt: skip
    """A synthetic city: a ``rows`` × ``cols`` grid of streets ``spacing_m`` apart north and
    east of ``origin``; every ``arterial_every``-th street is a faster arterial."""
    graph = RoadGraph()
    dlat = spacing_m / 111_195.0
    dlon = spacing_m / (111_195.0 * math.cos(math.radians(origin[0])))
    for i in range(rows):
        speed = arterial_kmh if i % arterial_every == 0 else street_kmh
        graph.add_road(
            [(origin[0] + i * dlat, origin[1] + j * dlon) for j in range(cols)], speed_kmh=speed
        )
    for j in range(cols):
        speed = arterial_kmh if j % arterial_every == 0 else street_kmh
        graph.add_road(
            [(origin[0] + i * dlat, origin[1] + j * dlon) for i in range(rows)], speed_kmh=speed
        )
    return graph
