"""MDS 2.0 (Mobility Data Specification, provider API) feeds: trips, telemetry and events.

Times are whole milliseconds since the epoch; positions are ``{"lat": …, "lng": …}``; ids are
UUIDs. Each record is checked and kept or refused on its own (:class:`~.feeds.FeedResult`).

Beyond MDS 2.0, agreed with the operators for kupol (all optional on a trip):

* ``vehicle_id``: the scooter's plate (MDS has it on vehicles, not trips);
* ``route``: the trip's GPS points as a GeoJSON FeatureCollection of Points, each with
  ``properties.timestamp`` (ms) and optionally ``properties.location_type`` — the shape MDS 1.x
  trips had (:mod:`kupol.scooters.mds_routes`); without it,
  :func:`~kupol.scooters.mds_routes.attach_routes` builds routes from the telemetry feed;
* ``rider``: ``{"rider_id": …, "birth_date": "YYYY-MM-DD", "licence": true}``.

Both envelopes are read: the records at the top level (2.0) or under ``data`` (1.x).

Example:
    >>> result = parse_trips({"version": "2.0.0", "trips": [{"trip_id": "x"}]})
    >>> len(result.accepted), str(result.rejected[0])
    (0, 'trips[0].provider_id: missing')
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from kupol.core.errors import InvalidInputError
from kupol.scooters.feeds import (
    FeedError,
    FeedResult,
    Fields,
    load_document,
    record_list,
    refuse,
)
from kupol.scooters.mds_routes import parse_route
from kupol.scooters.model import Position, Rider, Telemetry, Trip, VehicleEvent
from kupol.scooters.plates import parse_scooter_plate

PARKING_CATEGORIES = frozenset({"corral", "curb", "rack", "other_valid", "invalid"})
VEHICLE_STATES = frozenset(
    {
        "available",
        "elsewhere",
        "non_operational",
        "on_trip",
        "removed",
        "reserved",
        "stopped",
        "unknown",
    }
)
CLOCK_SKEW = timedelta(minutes=5)
"""A time this far past ``now`` is refused as in the future."""


def _envelope(document: object, key: str) -> list[object]:
    what = f"MDS {key} feed"
    doc = load_document(document, what=what)
    version = doc.get("version")
    if not isinstance(version, str):
        raise refuse(what, "version", "missing")
    if not version.startswith("2."):
        raise refuse(what, "version", f"{version} is not supported (MDS 2.x)")
    return record_list(doc, key, what=what)


def position(record: Fields, key: str, *, required: bool = True) -> Position | None:
    """The MDS GPS object under ``key`` (``lat``, ``lng``), checked."""
    gps = record.child(key, required=required)
    if gps is None:
        return None
    lat = gps.number("lat", low=-90, high=90, what="a latitude")
    lon = gps.number("lng", low=-180, high=180, what="a longitude")
    if lat is None or lon is None:
        return None
    if lat == 0 and lon == 0:
        record.fail(key, "0, 0 is not a position (a GPS without a fix)")
        return None
    return Position(lat=lat, lon=lon)


def _not_future(record: Fields, key: str, ms: int | None, now: datetime | None) -> int | None:
    if ms is None or now is None or ms <= (now + CLOCK_SKEW).timestamp() * 1000:
        return ms
    at = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
    record.fail(key, f"{at} is in the future")
    return None


def _rider(trip: Fields) -> Rider | None:
    rider = trip.child("rider", required=False)
    if rider is None:
        return None
    rider_id = rider.text("rider_id")
    born = rider.day("birth_date", required=False)
    licence = rider.boolean("licence", required=False)
    if born is not None and born.year < 1900:
        rider.fail("birth_date", f"{born.isoformat()} is not a plausible birth date")
        return None
    return None if rider_id is None else Rider(rider_id=rider_id, birth_date=born, licence=licence)


def date_of(ms: int) -> date:
    """The UTC date of an MDS time."""
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def _trip(raw: object, index: int, errors: list[FeedError], now: datetime | None) -> Trip | None:
    before = len(errors)
    trip = Fields.of(raw, f"trips[{index}]", errors, index)
    if trip is None:
        return None
    ids = [trip.uuid(k) for k in ("provider_id", "device_id", "trip_id")]
    start = _not_future(trip, "start_time", trip.epoch_ms("start_time"), now)
    end = _not_future(trip, "end_time", trip.epoch_ms("end_time"), now)
    if start is not None and end is not None and end < start:
        trip.fail("end_time", "before start_time")
    here, there = position(trip, "start_location"), position(trip, "end_location")
    duration = trip.integer("duration", low=0)
    distance = trip.number("distance", low=0, what="a distance in metres (>= 0)")
    parking = trip.text("parking_category", required=False)
    if parking is not None and parking not in PARKING_CATEGORIES:
        trip.fail("parking_category", f"{parking!r} is not one of {sorted(PARKING_CATEGORIES)}")
    plate = None
    vehicle_id = trip.text("vehicle_id", required=False)
    if vehicle_id is not None:
        try:
            plate = parse_scooter_plate(vehicle_id)
        except InvalidInputError as exc:
            trip.fail("vehicle_id", exc.detail)
    rider, route = _rider(trip), parse_route(trip)
    if rider and rider.birth_date and start and rider.birth_date > date_of(start):
        trip.fail("rider.birth_date", f"{rider.birth_date.isoformat()} is after the trip")
    if len(errors) > before:
        return None
    assert ids[0] and ids[1] and ids[2] and start and end and here and there  # checked above
    assert duration is not None and distance is not None
    return Trip(
        provider_id=ids[0],
        device_id=ids[1],
        trip_id=ids[2],
        start_ms=start,
        end_ms=end,
        start_location=here,
        end_location=there,
        duration_s=duration,
        distance_m=distance,
        plate=plate,
        parking_category=parking,
        rider=rider,
        route=route,
    )


def parse_trips(document: object, *, now: datetime | None = None) -> FeedResult[Trip]:
    """The trips of an MDS ``/trips`` response, each checked.

    Args:
        document: The response: decoded JSON, or its bytes or text.
        now: When given, a time more than five minutes after it is refused.

    Raises:
        InvalidInputError: Not JSON, not an object, no MDS 2.x ``version``, no ``trips`` array.
    """
    records = _envelope(document, "trips")
    errors: list[FeedError] = []
    trips = [_trip(raw, i, errors, now) for i, raw in enumerate(records)]
    return FeedResult(accepted=tuple(t for t in trips if t), rejected=tuple(errors))


def parse_telemetry(document: object, *, now: datetime | None = None) -> FeedResult[Telemetry]:
    """The points of an MDS ``/telemetry`` response, each checked (``location``, or ``gps``
    as MDS 1.x named it).

    Raises:
        InvalidInputError: As :func:`parse_trips`, for a ``telemetry`` array.
    """
    errors: list[FeedError] = []
    points = []
    for i, raw in enumerate(_envelope(document, "telemetry")):
        before = len(errors)
        point = Fields.of(raw, f"telemetry[{i}]", errors, i)
        if point is None:
            continue
        ids = [point.uuid(k) for k in ("provider_id", "device_id", "telemetry_id")]
        at = _not_future(point, "timestamp", point.epoch_ms("timestamp"), now)
        where = position(point, "gps" if "location" not in point.raw else "location")
        trip_ids = point.strings("trip_ids", required=False) or ()
        kind = point.text("location_type", required=False)
        speed = point.number("speed", required=False, low=0, what="a speed in m/s (>= 0)")
        battery = point.integer("battery_percent", required=False, low=0)
        if battery is not None and battery > 100:
            point.fail("battery_percent", f"{battery} is not a percentage")
        if len(errors) == before and ids[0] and ids[1] and ids[2] and at and where:
            points.append(
                Telemetry(
                    provider_id=ids[0],
                    device_id=ids[1],
                    telemetry_id=ids[2],
                    t_ms=at,
                    position=where,
                    trip_ids=trip_ids,
                    location_type=kind,
                    speed_mps=speed,
                    battery_percent=battery,
                )
            )
    return FeedResult(accepted=tuple(points), rejected=tuple(errors))


def parse_events(document: object, *, now: datetime | None = None) -> FeedResult[VehicleEvent]:
    """The events of an MDS ``/events`` response, each checked.

    Raises:
        InvalidInputError: As :func:`parse_trips`, for an ``events`` array.
    """
    errors: list[FeedError] = []
    events = []
    for i, raw in enumerate(_envelope(document, "events")):
        before = len(errors)
        event = Fields.of(raw, f"events[{i}]", errors, i)
        if event is None:
            continue
        ids = [event.uuid(k) for k in ("provider_id", "device_id", "event_id")]
        at = _not_future(event, "timestamp", event.epoch_ms("timestamp"), now)
        state = event.text("vehicle_state")
        if state is not None and state not in VEHICLE_STATES:
            event.fail("vehicle_state", f"{state!r} is not an MDS vehicle state")
        types = event.strings("event_types")
        where = position(event, "location", required=False)
        trip_ids = event.strings("trip_ids", required=False) or ()
        if len(errors) == before and ids[0] and ids[1] and ids[2] and at and state and types:
            events.append(
                VehicleEvent(
                    provider_id=ids[0],
                    device_id=ids[1],
                    event_id=ids[2],
                    t_ms=at,
                    vehicle_state=state,
                    event_types=types,
                    position=where,
                    trip_ids=trip_ids,
                )
            )
    return FeedResult(accepted=tuple(events), rejected=tuple(errors))
