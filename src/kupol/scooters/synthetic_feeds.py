"""Operator feeds of a synthetic day, as the operators would publish them: MDS trips and
telemetry, and GBFS snapshots consistent with the trips; and broken copies of a feed for the
validators' tests.

Example:
    >>> from kupol.scooters.generator import generate_day
    >>> from kupol.scooters.mds import parse_trips
    >>> day = generate_day(trips=5, scooters=5, seed=2)
    >>> document = mds_trips_document(day.trips)
    >>> bad = broken(document, "trips[1].start_location.lat", 95.2)
    >>> [str(e) for e in parse_trips(bad).rejected]
    ['trips[1].start_location.lat: 95.2 is not a latitude']
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from kupol.scooters.city import Zone, ZoneKind
from kupol.scooters.generator import SyntheticDay
from kupol.scooters.model import Position, Trip
from kupol.scooters.registry import Operator

MISSING: Any = object()
"""Given as the value to :func:`broken`: the field is removed."""
_IDS = uuid.UUID("6f1c5a52-2f0e-4a51-9d0b-6b0a8f3f0d11")


def _trip(trip: Trip) -> dict[str, object]:
    document: dict[str, object] = {
        "provider_id": trip.provider_id,
        "device_id": trip.device_id,
        "trip_id": trip.trip_id,
        "start_time": trip.start_ms,
        "end_time": trip.end_ms,
        "start_location": {"lat": trip.start_location.lat, "lng": trip.start_location.lon},
        "end_location": {"lat": trip.end_location.lat, "lng": trip.end_location.lon},
        "duration": trip.duration_s,
        "distance": round(trip.distance_m),
    }
    if trip.plate is not None:
        document["vehicle_id"] = trip.plate.text
    if trip.rider is not None:
        rider: dict[str, object] = {"rider_id": trip.rider.rider_id}
        if trip.rider.birth_date is not None:
            rider["birth_date"] = trip.rider.birth_date.isoformat()
        if trip.rider.licence is not None:
            rider["licence"] = trip.rider.licence
        document["rider"] = rider
    if trip.route is not None:
        r = trip.route
        document["route"] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"timestamp": t},
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                }
                for t, lat, lon in zip(r.t_ms.tolist(), r.lat.tolist(), r.lon.tolist(), strict=True)
            ],
        }
    return document


def mds_trips_document(trips: Sequence[Trip], *, version: str = "2.0.0") -> dict[str, object]:
    """An MDS ``/trips`` response with the trips (their routes, plates and riders included)."""
    return {"version": version, "trips": [_trip(t) for t in trips]}


def mds_telemetry_document(trips: Sequence[Trip], *, version: str = "2.0.0") -> dict[str, object]:
    """An MDS ``/telemetry`` response: every route point, naming its trip."""
    points = []
    for trip in trips:
        if trip.route is None:
            continue
        r = trip.route
        for k, (t, lat, lon) in enumerate(
            zip(r.t_ms.tolist(), r.lat.tolist(), r.lon.tolist(), strict=True)
        ):
            points.append(
                {
                    "provider_id": trip.provider_id,
                    "device_id": trip.device_id,
                    "telemetry_id": str(uuid.uuid5(_IDS, f"{trip.trip_id}/{k}")),
                    "timestamp": t,
                    "trip_ids": [trip.trip_id],
                    "journey_id": None,
                    "location": {"lat": lat, "lng": lon},
                }
            )
    return {"version": version, "telemetry": points}


@dataclass(frozen=True, kw_only=True)
class GbfsSnapshot:
    """An operator's GBFS files at one moment, and how many of its scooters were riding then
    (GBFS never lists a vehicle on a trip)."""

    files: Mapping[str, Mapping[str, object]]
    listed: int
    on_trip: int


def _zone_feature(zone: Zone, v3: bool) -> dict[str, object]:
    ring = [[lon, lat] for lat, lon in (*zone.polygon, zone.polygon[0])]
    no_ride, no_parking = zone.kind is ZoneKind.NO_RIDE, zone.kind is not ZoneKind.SLOW
    rule: dict[str, object] = {"ride_through_allowed": not no_ride}
    if v3:
        rule |= {"ride_start_allowed": not no_parking, "ride_end_allowed": not no_parking}
    else:
        rule["ride_allowed"] = not no_parking
    if zone.kind is ZoneKind.SLOW:
        rule["maximum_speed_kph"] = zone.max_speed_kmh or 6
    name: object = [{"text": zone.name, "language": "ru"}] if v3 else zone.name
    return {
        "type": "Feature",
        "properties": {"name": name, "rules": [rule]},
        "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
    }


def gbfs_snapshot(
    day: SyntheticDay, operator: Operator, *, at: datetime, version: str = "2.3", ttl_s: int = 60
) -> GbfsSnapshot:
    """The operator's GBFS files at ``at``: each of its scooters not riding then, where its last
    trip ended (or where it stood in the morning), under an id drawn anew (GBFS rotates them).
    """
    v3 = version.startswith("3.")
    at_ms = int(at.timestamp() * 1000)
    rng = np.random.default_rng([at_ms, int(operator.provider_id[:8], 16)])
    last_end: dict[str, tuple[int, Position]] = {}
    riding = set()
    for trip in day.trips:
        if trip.provider_id != operator.provider_id or trip.start_ms > at_ms:
            continue
        if trip.end_ms > at_ms:
            riding.add(trip.device_id)
        elif last_end.get(trip.device_id, (0, None))[0] <= trip.end_ms:
            last_end[trip.device_id] = (trip.end_ms, trip.end_location)
    vehicles = []
    for scooter, parked in zip(day.scooters, day.parked, strict=True):
        if scooter.provider_id != operator.provider_id or scooter.device_id in riding:
            continue
        ended, where = last_end.get(scooter.device_id, (None, parked))
        seen = ended // 1000 if ended else int(at.timestamp()) - 3600
        vehicle: dict[str, object] = {
            "vehicle_id" if v3 else "bike_id": str(uuid.UUID(bytes=rng.bytes(16), version=4)),
            "lat": round(where.lat, 6),
            "lon": round(where.lon, 6),
            "is_reserved": False,
            "is_disabled": bool(rng.random() < 0.03),
            "vehicle_type_id": "scooter",
            "current_range_meters": int(rng.integers(2000, 40000)),
            "last_reported": datetime.fromtimestamp(seen, at.tzinfo).isoformat() if v3 else seen,
        }
        vehicles.append(vehicle)
    stamp: object = at.isoformat(timespec="seconds") if v3 else int(at.timestamp())

    def file(data: dict[str, object]) -> dict[str, object]:
        """A GBFS file around ``data``."""
        return {"last_updated": stamp, "ttl": ttl_s, "version": version, "data": data}

    name: object = [{"text": operator.name, "language": "ru"}] if v3 else operator.name
    system = {
        "system_id": operator.name.lower().replace(" ", "-"),
        "name": name,
        "timezone": "Asia/Almaty",
    }
    system |= (
        {
            "languages": ["ru", "kk"],
            "opening_hours": "Mo-Su 06:00-23:00",
            "feed_contact_email": "gbfs@example.kz",
        }
        if v3
        else {"language": "ru"}
    )
    zones = [_zone_feature(z, v3) for z in day.rules.zones]
    files = {
        "system_information": file(system),
        "vehicle_status" if v3 else "free_bike_status": file(
            {"vehicles" if v3 else "bikes": vehicles}
        ),
        "station_information": file({"stations": []}),
        "geofencing_zones": file(
            {"geofencing_zones": {"type": "FeatureCollection", "features": zones}}
        ),
    }
    return GbfsSnapshot(files=files, listed=len(vehicles), on_trip=len(riding))


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [k if k else int(i) for k, i in _STEP.findall(path)]


def _holds(document: object, path: str) -> bool:
    """Whether the object or array that would hold the field at ``path`` is there."""
    holder: Any = document
    for step in _steps(path)[:-1]:
        try:
            holder = holder[step]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(holder, dict | list)


def _set(document: Any, path: str, value: object) -> None:
    steps = _steps(path)
    holder = document
    for step in steps[:-1]:
        holder = holder[step]
    if value is MISSING:
        del holder[steps[-1]]
    else:
        holder[steps[-1]] = value


def broken(document: Mapping[str, object], path: str, value: object = MISSING) -> dict[str, Any]:
    """A deep copy of ``document`` with the field at ``path`` (``trips[3].start_location.lat``)
    set to ``value``, or removed (:data:`MISSING`)."""
    copied: dict[str, Any] = copy.deepcopy(dict(document))
    _set(copied, path, value)
    return copied


TRIP_CORRUPTIONS: tuple[tuple[str, object, str], ...] = (
    ("start_time", MISSING, "missing"),
    ("start_time", "yesterday", '"yesterday" is not an integer'),
    (
        "end_time",
        1_784_000_000,
        "1784000000 looks like seconds: MDS times are milliseconds since 1970",
    ),
    ("end_location.lat", 95.2, "95.2 is not a latitude"),
    ("start_location.lng", "71.4", '"71.4" is not a longitude'),
    ("device_id", "scooter-7", '"scooter-7" is not a UUID'),
    ("duration", -5, "-5 is not an integer >= 0"),
    (
        "vehicle_id",
        "AB1",
        "'AB1' is not a scooter plate: an operator's letter (A-Z) and 1 to 5 digits, like W12345",
    ),
    ("route.features[0].properties.timestamp", MISSING, "missing"),
    ("route.features[1].geometry.coordinates", [71.4], "missing"),
    ("rider.birth_date", "2010-13-01", '"2010-13-01" is not a date (YYYY-MM-DD)'),
)
"""Ways to break an MDS trip: the field, the bad value, and the message the validator gives
(a coordinates array of one number misses its latitude: the path ends ``coordinates[1]``)."""


def corrupt_records(
    document: Mapping[str, object],
    key: str,
    *,
    rng: np.random.Generator,
    count: int,
    corruptions: Sequence[tuple[str, object, str]] = TRIP_CORRUPTIONS,
) -> tuple[dict[str, Any], dict[int, str]]:
    """``document`` with ``count`` of its ``key`` records broken, one way each, at random (of
    the ways that fit the record: no rider, no broken birth date); and for each broken record
    the error expected (``trips[7].duration: -5 is not …``)."""
    copied: dict[str, Any] = copy.deepcopy(dict(document))
    records = copied[key]
    chosen = sorted(rng.choice(len(records), size=count, replace=False).tolist())
    expected: dict[int, str] = {}
    for index in chosen:
        usable = [c for c in corruptions if _holds(records[index], c[0])]
        field, value, message = usable[int(rng.integers(len(usable)))]
        _set(copied, f"{key}[{index}].{field}", value)
        where = field + "[1]" if field.endswith("coordinates") else field
        expected[index] = f"{key}[{index}].{where}: {message}"
    return copied, expected
