"""GBFS ``geofencing_zones`` (2.1+, 3.0): where an operator's vehicles may not ride, may not
park, or must ride slowly, as a GeoJSON FeatureCollection of (Multi)Polygons with rules.

GBFS 2.x rules say ``ride_allowed`` (start and end a ride) and ``ride_through_allowed``; 3.0
splits the first into ``ride_start_allowed`` and ``ride_end_allowed`` and adds
``global_rules`` for everywhere outside the zones. Both are read into :class:`ZoneRule`.
:func:`kupol.scooters.rules.zones_from_gbfs` turns the zones into the city's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kupol.scooters.feeds import FeedError, Fields, refuse, shown
from kupol.scooters.gbfs import FeedHeader, GbfsFeed, localized, read_file, records

LatLon = tuple[float, float]
Ring = tuple[LatLon, ...]


@dataclass(frozen=True, kw_only=True)
class ZonePolygon:
    """One polygon: its outer ring and its holes, as (latitude, longitude), open rings."""

    outer: Ring
    holes: tuple[Ring, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ZoneRule:
    """What a zone allows, for the vehicle types named (none named: every type)."""

    vehicle_type_ids: tuple[str, ...]
    ride_start_allowed: bool
    ride_end_allowed: bool
    ride_through_allowed: bool
    maximum_speed_kph: float | None = None
    station_parking: bool | None = None


@dataclass(frozen=True, kw_only=True)
class GeofencingZone:
    """One zone (GeoJSON feature): its polygons, its rules and when they apply."""

    name: str | None
    polygons: tuple[ZonePolygon, ...]
    rules: tuple[ZoneRule, ...]
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Geofencing(GbfsFeed[GeofencingZone]):
    """A validated ``geofencing_zones`` file (records: the zones, one per feature)."""

    global_rules: tuple[ZoneRule, ...] = ()


def _ring(record: Fields, path: str, raw: object) -> Ring | None:
    """A linear ring of [lon, lat] positions as open (lat, lon) tuples."""
    if not isinstance(raw, list):
        record.errors.append(
            FeedError(path=path, message="not an array of positions", record=record.record)
        )
        return None
    ring: list[LatLon] = []
    for k, point in enumerate(raw):
        if not _is_position(point):
            message = f"{shown(point)} is not a [longitude, latitude] position"
            record.errors.append(
                FeedError(path=f"{path}[{k}]", message=message, record=record.record)
            )
            return None
        ring.append((float(point[1]), float(point[0])))
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(set(ring)) < 3:
        record.errors.append(
            FeedError(path=path, message="fewer than 3 distinct positions", record=record.record)
        )
        return None
    return tuple(ring)


def _is_position(point: object) -> bool:
    if not isinstance(point, list) or len(point) < 2:
        return False
    lon, lat = point[0], point[1]
    numbers = all(isinstance(c, int | float) and not isinstance(c, bool) for c in (lon, lat))
    return numbers and -180 <= lon <= 180 and -90 <= lat <= 90


def _polygons(feature: Fields) -> tuple[ZonePolygon, ...] | None:
    geometry = feature.child("geometry")
    if geometry is None:
        return None
    kind = geometry.raw.get("type")
    coordinates = geometry.array("coordinates")
    if kind not in ("MultiPolygon", "Polygon"):
        geometry.fail("type", f"{shown(kind)} is not MultiPolygon")
        return None
    if coordinates is None:
        return None
    path = f"{geometry.path}.coordinates"
    polygons = [coordinates] if kind == "Polygon" else coordinates
    out = []
    for p, polygon in enumerate(polygons):
        prefix = path if kind == "Polygon" else f"{path}[{p}]"
        if not isinstance(polygon, list) or not polygon:
            geometry.errors.append(
                FeedError(path=prefix, message="not an array of rings", record=geometry.record)
            )
            return None
        rings = [_ring(geometry, f"{prefix}[{r}]", ring) for r, ring in enumerate(polygon)]
        if any(r is None for r in rings):
            return None
        outer, *holes = (r for r in rings if r is not None)
        out.append(ZonePolygon(outer=outer, holes=tuple(holes)))
    return tuple(out)


def _rules(owner: Fields, key: str, *, header: FeedHeader) -> tuple[ZoneRule, ...] | None:
    raw = owner.array(key, required=False)
    if raw is None:
        return ()
    rules = []
    for i, item in enumerate(raw):
        rule = Fields.of(item, f"{owner.path}.{key}[{i}]", owner.errors, owner.record)
        if rule is None:
            return None
        if header.v3:
            types = rule.strings("vehicle_type_ids", required=False)
            start, end = rule.boolean("ride_start_allowed"), rule.boolean("ride_end_allowed")
        else:
            types = rule.strings("vehicle_type_id", required=False)
            start = end = rule.boolean("ride_allowed")
        through = rule.boolean("ride_through_allowed")
        speed = rule.number(
            "maximum_speed_kph", required=False, low=0, what="a speed in km/h (>= 0)"
        )
        parking = rule.boolean("station_parking", required=False)
        if start is None or end is None or through is None:
            return None
        rules.append(
            ZoneRule(
                vehicle_type_ids=types or (),
                ride_start_allowed=start,
                ride_end_allowed=end,
                ride_through_allowed=through,
                maximum_speed_kph=speed,
                station_parking=parking,
            )
        )
    return tuple(rules)


def parse_geofencing_zones(document: object) -> Geofencing:
    """``geofencing_zones``: each zone (feature) checked, with its polygons and rules.

    Raises:
        InvalidInputError: The envelope is wrong or ``data.geofencing_zones`` is not a
            FeatureCollection with a ``features`` array.
    """
    what = "GBFS geofencing_zones"
    header, data, errors = read_file(document, what=what)
    collection = data.child("geofencing_zones")
    if collection is None or collection.raw.get("type") != "FeatureCollection":
        at = "data.geofencing_zones" + ("" if collection is None else ".type")
        raise refuse(what, at, "not a GeoJSON FeatureCollection")
    zones = []
    for i, raw in enumerate(records(collection, "features", what=what)):
        before = len(errors)
        feature = Fields.of(raw, f"data.geofencing_zones.features[{i}]", errors, i)
        if feature is None:
            continue
        polygons = _polygons(feature)
        properties = feature.child("properties")
        if properties is None or polygons is None:
            continue
        name = localized(properties, "name", header=header, required=False)
        start = properties.timestamp("start", required=False, rfc3339=header.v3)
        end = properties.timestamp("end", required=False, rfc3339=header.v3)
        rules = _rules(properties, "rules", header=header)
        if len(errors) == before and rules is not None:
            zones.append(
                GeofencingZone(name=name, polygons=polygons, rules=rules, start=start, end=end)
            )
    global_rules = _global_rules(data, header, errors) if header.v3 else ()
    return Geofencing(
        header=header, accepted=tuple(zones), rejected=tuple(errors), global_rules=global_rules
    )


def _global_rules(
    data: Fields, header: FeedHeader, errors: list[FeedError]
) -> tuple[ZoneRule, ...]:
    before = len(errors)
    rules = _rules(data, "global_rules", header=header)
    return () if rules is None or len(errors) > before else rules


def rule_for(rules: Sequence[ZoneRule], vehicle_type_id: str | None) -> ZoneRule | None:
    """The first rule for ``vehicle_type_id`` (a rule naming no type applies to every type)."""
    for rule in rules:
        if not rule.vehicle_type_ids or vehicle_type_id in rule.vehicle_type_ids:
            return rule
    return None
