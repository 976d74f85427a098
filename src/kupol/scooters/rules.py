"""The city's rules for rental e-scooters, and the check of trips against them.

Rules (:class:`CityRules`): a city-wide maximum speed (25 km/h), walking pace on sidewalks
(6 km/h), zones — **slow** (a lower limit; a sidewalk zone is walking pace), **no-ride** and
**no-parking** — night curfews in local time (Asia/Almaty by default), and the rider's
minimum age and licence. Zones can come from the operators' GBFS geofencing
(:func:`zones_from_gbfs`).

How GPS noise is kept out (:class:`Detection`, the defaults measured in
``tests/unit/scooters/test_generated_day.py``):

* **speed** is averaged over windows of ``window_s`` (10 s) — see
  :mod:`kupol.scooters.points` — and speeding is reported only when the windows starting over
  ``sustained_s`` (10 s) of riding *all* exceed the limit by more than ``tolerance_kmh``
  (3 km/h): about 20 s of sustained speed. A single GPS jump, or an offset shorter than the
  window, cannot make such a run: it raises only the windows that start or end on it. A trip
  breaks each limit (kind and zone) once: its stretches over it are one violation, with the
  median of their windows' speeds and their total duration;
* a **no-ride zone** is entered when consecutive route points lie inside it for at least
  ``zone_dwell_s`` (5 s, and at least two points): a lone fix across the edge is not a ride;
* a **curfew** is broken when the trip overlaps the window by at least ``curfew_grace_s``
  (60 s), from the trip's start and end times;
* **no-parking** is the trip's end position inside the zone; **age** and **licence** come
  from the rider the operator reports (not reported: not judged).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from kupol.scooters.city import CityRules, Curfew, Detection, Zone, ZoneKind, zones_from_gbfs
from kupol.scooters.geometry import points_in_polygon
from kupol.scooters.model import BoolArray, FloatArray, IntArray, Position, Trip
from kupol.scooters.points import RoutePoints, runs
from kupol.scooters.violations import ScooterViolation, ViolationKind

__all__ = [
    "CityRules",
    "Curfew",
    "Detection",
    "ScooterViolation",
    "ViolationKind",
    "Zone",
    "ZoneKind",
    "check_trips",
    "zones_from_gbfs",
]

_SPEED_KINDS = (
    ViolationKind.SPEEDING,
    ViolationKind.SLOW_ZONE_SPEEDING,
    ViolationKind.SIDEWALK_SPEEDING,
)


def check_trips(
    trips: Sequence[Trip], rules: CityRules, *, detection: Detection | None = None
) -> list[ScooterViolation]:
    """Every violation of ``rules`` on ``trips``, trip by trip in the given order, then by time.

    Routes are checked all at once, as arrays: some five million route points a second on
    the 2-core development machine (``bench/scooters.py``).

    Example:
        >>> trip = Trip(provider_id="p", device_id="d", trip_id="t", start_ms=1782943200000,
        ...     end_ms=1782943800000, start_location=Position(lat=51.1, lon=71.4),
        ...     end_location=Position(lat=51.11, lon=71.4), duration_s=600, distance_m=1200)
        >>> from datetime import time
        >>> night = Curfew(start=time(0), end=time(6))
        >>> [v.kind.value for v in check_trips([trip], CityRules(curfews=(night,)))]
        ['curfew']
    """
    detection = detection or Detection()
    points = RoutePoints.of(trips)
    found = [
        *_speeding(points, rules, detection),
        *_no_ride(points, trips, rules, detection),
        *_no_parking(trips, rules),
        *_curfews(trips, rules, detection),
        *_riders(trips, rules),
    ]
    order: dict[str, int] = {}
    for index, trip in enumerate(trips):
        order.setdefault(trip.trip_id, index)
    found.sort(key=lambda v: (order[v.trip_id], v.at, v.kind))
    return found


def _violation(
    trip: Trip,
    kind: ViolationKind,
    at_ms: float,
    position: Position,
    *,
    speed_kmh: float | None = None,
    limit_kmh: float | None = None,
    zone: str | None = None,
    duration_s: float | None = None,
    detail: str | None = None,
) -> ScooterViolation:
    return ScooterViolation(
        kind=kind,
        trip_id=trip.trip_id,
        provider_id=trip.provider_id,
        device_id=trip.device_id,
        plate=trip.plate.text if trip.plate else None,
        rider_id=trip.rider.rider_id if trip.rider else None,
        at=datetime.fromtimestamp(at_ms / 1000, UTC),
        position=position,
        speed_kmh=speed_kmh,
        limit_kmh=limit_kmh,
        zone=zone,
        duration_s=duration_s,
        detail=detail,
    )


def _limits(points: RoutePoints, rules: CityRules) -> tuple[FloatArray, IntArray, IntArray]:
    """Each point's speed limit, the kind of limit (an index into _SPEED_KINDS) and its zone."""
    n = len(points)
    limit = np.full(n, rules.max_speed_kmh)
    kind = np.zeros(n, dtype=np.int64)
    zone = np.full(n, -1, dtype=np.int64)
    for index, slow in enumerate(rules.zones):
        if slow.kind is not ZoneKind.SLOW:
            continue
        zone_limit = rules.zone_limit(slow)
        lower = points_in_polygon(points.lat, points.lon, slow.polygon, slow.holes)
        lower &= zone_limit < limit
        limit[lower], kind[lower], zone[lower] = zone_limit, 2 if slow.sidewalk else 1, index
    walk = points.sidewalk & (rules.sidewalk_max_kmh < limit)
    limit[walk], kind[walk], zone[walk] = rules.sidewalk_max_kmh, 2, -1
    return limit, kind, zone


def _speeding(
    points: RoutePoints, rules: CityRules, detection: Detection
) -> list[ScooterViolation]:
    if len(points) == 0:
        return []
    limit, kind, zone = _limits(points, rules)
    end, speed = points.window_speeds(detection.window_s)
    valid = end >= 0
    e = np.where(valid, end, 0)
    start_rules = limit >= limit[e]  # a window across a boundary keeps the higher limit
    limit = np.where(start_rules, limit, limit[e])
    kind, zone = np.where(start_rules, kind, kind[e]), np.where(start_rules, zone, zone[e])
    with np.errstate(invalid="ignore"):
        over = valid & (speed > limit + detection.tolerance_kmh)
    group = (points.trip * 3 + kind) * (len(rules.zones) + 1) + zone + 1
    firsts, lasts = runs(over, group)
    t = points.t_ms
    sustained = t[lasts] - t[firsts] >= detection.sustained_s * 1000
    stretches: dict[int, list[tuple[int, int]]] = {}  # one violation per trip, kind and zone
    for first, last in zip(firsts[sustained].tolist(), lasts[sustained].tolist(), strict=True):
        stretches.setdefault(int(group[first]), []).append((first, last))
    found = []
    for runs_over in stretches.values():
        first = runs_over[0][0]
        over_speeds = np.concatenate([speed[a : b + 1][over[a : b + 1]] for a, b in runs_over])
        named = rules.zones[zone[first]].name if zone[first] >= 0 else None
        found.append(
            _violation(
                points.trips[points.trip[first]],
                _SPEED_KINDS[kind[first]],
                float(t[first]),
                Position(lat=float(points.lat[first]), lon=float(points.lon[first])),
                speed_kmh=round(float(np.median(over_speeds)), 1),
                limit_kmh=float(limit[first]),
                zone=named,
                duration_s=sum(float(t[end[b]] - t[a]) for a, b in runs_over) / 1000,
                detail=f"{len(runs_over)} stretches over the limit" if len(runs_over) > 1 else None,
            )
        )
    return found


def _inside(trips: Sequence[Trip], zone: Zone, *, at_end: bool) -> BoolArray:
    where = [t.end_location if at_end else t.start_location for t in trips]
    lat = np.array([p.lat for p in where], dtype=np.float64)
    lon = np.array([p.lon for p in where], dtype=np.float64)
    return points_in_polygon(lat, lon, zone.polygon, zone.holes)


def _no_ride(
    points: RoutePoints, trips: Sequence[Trip], rules: CityRules, detection: Detection
) -> list[ScooterViolation]:
    found = []
    bare = [t for t in trips if t.route is None or len(t.route) == 0]
    for zone in rules.zones_of(ZoneKind.NO_RIDE):
        inside = points_in_polygon(points.lat, points.lon, zone.polygon, zone.holes)
        firsts, lasts = runs(inside, points.trip)
        dwell = points.t_ms[lasts] - points.t_ms[firsts]
        long_enough = (lasts > firsts) & (dwell >= detection.zone_dwell_s * 1000)
        seen = set()
        for first, last in zip(firsts[long_enough], lasts[long_enough], strict=True):
            trip_index = int(points.trip[first])
            if trip_index not in seen:
                seen.add(trip_index)
                found.append(
                    _violation(
                        points.trips[trip_index],
                        ViolationKind.NO_RIDE_ZONE,
                        float(points.t_ms[first]),
                        Position(lat=float(points.lat[first]), lon=float(points.lon[first])),
                        zone=zone.name,
                        duration_s=float(points.t_ms[last] - points.t_ms[first]) / 1000,
                    )
                )
        if bare:
            starts, ends = _inside(bare, zone, at_end=False), _inside(bare, zone, at_end=True)
            for trip, start, end in zip(bare, starts, ends, strict=True):
                if start or end:
                    found.append(
                        _violation(
                            trip,
                            ViolationKind.NO_RIDE_ZONE,
                            trip.start_ms if start else trip.end_ms,
                            trip.start_location if start else trip.end_location,
                            zone=zone.name,
                            detail="no route: the trip starts or ends inside",
                        )
                    )
    return found


def _no_parking(trips: Sequence[Trip], rules: CityRules) -> list[ScooterViolation]:
    found, seen = [], set()
    for zone in rules.zones_of(ZoneKind.NO_PARKING):
        for trip, inside in zip(trips, _inside(trips, zone, at_end=True), strict=True):
            if inside and trip.trip_id not in seen:
                seen.add(trip.trip_id)
                found.append(
                    _violation(
                        trip,
                        ViolationKind.NO_PARKING,
                        trip.end_ms,
                        trip.end_location,
                        zone=zone.name,
                    )
                )
    return found


def _position_at(trip: Trip, at_ms: int) -> Position:
    route = trip.route
    if route is None or len(route) == 0:
        nearer_start = at_ms - trip.start_ms < trip.end_ms - at_ms
        return trip.start_location if nearer_start else trip.end_location
    k = min(int(np.searchsorted(route.t_ms, at_ms)), len(route) - 1)
    return Position(lat=float(route.lat[k]), lon=float(route.lon[k]))


def _curfews(
    trips: Sequence[Trip], rules: CityRules, detection: Detection
) -> list[ScooterViolation]:
    found = []
    tz = rules.tz
    for trip in trips:
        offset = trip.start_time.astimezone(tz).utcoffset() or timedelta(0)
        local_start = trip.start_ms // 1000 + int(offset.total_seconds())
        local_end = trip.end_ms // 1000 + int(offset.total_seconds())
        for curfew in rules.curfews:
            first_day = local_start // 86_400 - 1
            for day in range(first_day, local_end // 86_400 + 1):
                begins, ends = curfew.windows(day * 86_400)
                overlap = min(local_end, ends) - max(local_start, begins)
                if overlap >= detection.curfew_grace_s:
                    at_ms = (max(local_start, begins) - int(offset.total_seconds())) * 1000
                    at_ms = max(at_ms, trip.start_ms)
                    found.append(
                        _violation(
                            trip,
                            ViolationKind.CURFEW,
                            at_ms,
                            _position_at(trip, at_ms),
                            duration_s=float(overlap),
                            detail=curfew.name,
                        )
                    )
                    break
    return found


def _riders(trips: Sequence[Trip], rules: CityRules) -> list[ScooterViolation]:
    found = []
    tz = rules.tz
    for trip in trips:
        rider = trip.rider
        if rider is None:
            continue
        age = rider.age_on(trip.start_time.astimezone(tz).date())
        if age is not None and age < rules.min_age:
            found.append(
                _violation(
                    trip,
                    ViolationKind.UNDERAGE,
                    trip.start_ms,
                    trip.start_location,
                    detail=f"age {age}",
                )
            )
        if rules.licence_required and rider.licence is False:
            found.append(
                _violation(trip, ViolationKind.UNLICENSED, trip.start_ms, trip.start_location)
            )
    return found
