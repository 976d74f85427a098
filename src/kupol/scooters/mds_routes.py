"""Trip routes: the GPS points of a trip, from the trip's own ``route`` (a GeoJSON
FeatureCollection of Points with ``properties.timestamp`` in ms, as MDS 1.x trips carried it)
or from the MDS telemetry points that name the trip.

A well-formed route is read in one NumPy pass; only a route with a bad point is read point by
point, to say which point and field is wrong
(``trips[2].route.features[5].geometry.coordinates[1]: 95.2 is not a latitude``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from kupol.scooters.feeds import EARLIEST_MS, LATEST_MS, Fields, shown
from kupol.scooters.model import Route, Telemetry, Trip


def _route_fast(features: Sequence[object]) -> Route | None:
    """The route when every feature is well formed (one pass in NumPy); else ``None``."""
    rows: list[Any] = list(features)  # JSON: any shape until checked
    try:
        coords = np.array([f["geometry"]["coordinates"][:2] for f in rows])
        times = np.array([f["properties"]["timestamp"] for f in rows])
        kinds = [f["properties"].get("location_type") for f in rows]
        points = all(f["geometry"]["type"] == "Point" for f in rows)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return None
    if not points or coords.dtype.kind not in "if" or coords.shape != (len(features), 2):
        return None
    if times.dtype.kind != "i" or len(times) == 0:
        return None
    lon, lat = coords[:, 0].astype(np.float64), coords[:, 1].astype(np.float64)
    good = (
        np.isfinite(coords).all()
        and (np.abs(lat) <= 90).all()
        and (np.abs(lon) <= 180).all()
        and ((times >= EARLIEST_MS) & (times <= LATEST_MS)).all()
    )
    if not good or any(k is not None and not isinstance(k, str) for k in kinds):
        return None
    sidewalk = None if all(k is None for k in kinds) else [k == "sidewalk" for k in kinds]
    return Route.of(times, lat, lon, sidewalk)


def parse_route(trip: Fields) -> Route | None:
    """The trip's ``route`` (optional), or ``None`` (noted) when a point is bad."""
    collection = trip.child("route", required=False)
    if collection is None:
        return None
    features = collection.array("features")
    if not features:
        if features is not None:
            collection.fail("features", "empty")
        return None
    fast = _route_fast(features)
    if fast is not None:
        return fast
    before = len(trip.errors)
    times: list[int] = []
    lats: list[float] = []
    lons: list[float] = []
    walk: list[bool] = []
    for i, raw in enumerate(features):
        feature = Fields.of(raw, f"{collection.path}.features[{i}]", trip.errors, trip.record)
        if feature is None:
            continue
        geometry, properties = feature.child("geometry"), feature.child("properties")
        if geometry is not None and geometry.raw.get("type") != "Point":
            geometry.fail("type", f"{shown(geometry.raw.get('type'))} is not Point")
        coordinates = geometry.array("coordinates") if geometry else None
        lon = lat = None
        if geometry is not None and coordinates is not None:
            pair = {f"[{k}]": coordinates[k] if len(coordinates) > k else None for k in (0, 1)}
            point = Fields(pair, f"{geometry.path}.coordinates", trip.errors, trip.record)
            lon = point.number("[0]", low=-180, high=180, what="a longitude")
            lat = point.number("[1]", low=-90, high=90, what="a latitude")
        t = properties.epoch_ms("timestamp") if properties else None
        kind = properties.text("location_type", required=False) if properties else None
        if t is not None and lat is not None and lon is not None:
            times.append(t)
            lats.append(lat)
            lons.append(lon)
            walk.append(kind == "sidewalk")
    if len(trip.errors) > before:
        return None
    return Route.of(times, lats, lons, walk if any(walk) else None)


def attach_routes(trips: Sequence[Trip], telemetry: Sequence[Telemetry]) -> tuple[Trip, ...]:
    """The trips, each without a route given one from the telemetry points that name it.

    A trip no telemetry point names keeps no route (only its start and end are checked).
    """
    by_trip: dict[str, list[Telemetry]] = {}
    for point in telemetry:
        for trip_id in point.trip_ids:
            by_trip.setdefault(trip_id, []).append(point)
    out = []
    for trip in trips:
        points = by_trip.get(trip.trip_id)
        if trip.route is None and points:
            route = Route.of(
                [p.t_ms for p in points],
                [p.position.lat for p in points],
                [p.position.lon for p in points],
                [p.location_type == "sidewalk" for p in points],
            )
            trip = replace(trip, route=route)
        out.append(trip)
    return tuple(out)
