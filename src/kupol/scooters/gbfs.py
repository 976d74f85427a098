"""GBFS feeds (General Bikeshare Feed Specification, 2.x and 3.0): what an operator has
available now — system information, free vehicles, stations.

Every GBFS file is ``{"last_updated": …, "ttl": …, "version": …, "data": {…}}``: 2.x writes
``last_updated`` as POSIX seconds, 3.0 as an RFC 3339 date-time; ``ttl`` is how many seconds the
data may be cached. A file is stale once ``last_updated + ttl`` (and a grace) has passed.
GBFS 2.x names the vehicle file ``free_bike_status`` (``bikes``, ``bike_id``), 3.0
``vehicle_status`` (``vehicles``, ``vehicle_id``); both are read by
:func:`parse_vehicle_status`. Geofencing zones are read by :mod:`kupol.scooters.gbfs_zones`.

Example:
    >>> feed = parse_vehicle_status({"last_updated": 1782900000, "ttl": 60, "version": "2.3",
    ...     "data": {"bikes": [{"bike_id": "b1", "lat": 51.1, "lon": 71.4,
    ...                         "is_reserved": False, "is_disabled": False}, {"bike_id": "b2"}]}})
    >>> [v.vehicle_id for v in feed.accepted], [str(e) for e in feed.rejected][:1]
    (['b1'], ['data.bikes[1].lat: missing'])
    >>> feed.header.is_stale(feed.header.last_updated + timedelta(seconds=61))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kupol.scooters.feeds import FeedError, FeedResult, Fields, load_document, refuse
from kupol.scooters.model import Position

VERSIONS = ("2.0", "2.1", "2.2", "2.3", "3.0")
CLOCK_SKEW = timedelta(minutes=5)
MAX_TTL_S = 366 * 86_400
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class FeedHeader:
    """A GBFS file's envelope: its version, when it was written and how long it holds."""

    version: str
    last_updated: datetime
    ttl_s: int

    @property
    def v3(self) -> bool:
        """Whether the file is GBFS 3.x."""
        return self.version.startswith("3.")

    @property
    def expires_at(self) -> datetime:
        """When the file's ``ttl`` runs out."""
        return self.last_updated + timedelta(seconds=self.ttl_s)

    def is_stale(self, now: datetime, *, grace_s: float = 0) -> bool:
        """Whether the file has outlived its ``ttl`` (plus ``grace_s``) at ``now``."""
        return now > self.expires_at + timedelta(seconds=grace_s)


@dataclass(frozen=True, kw_only=True)
class GbfsFeed(FeedResult[T]):
    """A validated GBFS file: its header, the records kept and the problems of those refused."""

    header: FeedHeader


@dataclass(frozen=True, kw_only=True)
class SystemInformation:
    """An operator's system: its id, name and time zone."""

    header: FeedHeader
    system_id: str
    name: str
    timezone: str
    operator: str | None = None
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Vehicle:
    """A vehicle GBFS lists: free to rent, reserved or disabled (never one on a trip)."""

    vehicle_id: str
    """Rotated after each trip since GBFS 2.0: not the scooter's lasting id."""
    position: Position | None
    is_reserved: bool
    is_disabled: bool
    vehicle_type_id: str | None = None
    last_reported: datetime | None = None
    current_range_m: float | None = None
    station_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Station:
    """A station (a parking place) GBFS lists."""

    station_id: str
    name: str
    position: Position
    capacity: int | None = None


def read_file(document: object, *, what: str) -> tuple[FeedHeader, Fields, list[FeedError]]:
    """A GBFS file's header and a reader of its ``data``.

    Raises:
        InvalidInputError: Not a JSON object, an unsupported ``version``, a bad
            ``last_updated`` or ``ttl``, or no ``data`` object.
    """
    doc = load_document(document, what=what)
    version = doc.get("version")
    if not isinstance(version, str) or version not in VERSIONS:
        shown = "missing" if version is None else f"{version} is not supported"
        raise refuse(what, "version", f"{shown} ({', '.join(VERSIONS)})")
    errors: list[FeedError] = []
    envelope = Fields(doc, "", errors, None)
    updated = envelope.timestamp("last_updated", rfc3339=version.startswith("3."))
    ttl = envelope.integer("ttl", low=0)
    if ttl is not None and ttl > MAX_TTL_S:
        envelope.fail("ttl", f"{ttl} s is longer than a feed holds (a year at most)")
        ttl = None
    data = envelope.child("data")
    if errors or updated is None or ttl is None or data is None:
        first = errors[0]
        raise refuse(what, first.path, first.message)
    return FeedHeader(version=version, last_updated=updated, ttl_s=ttl), data, errors


def records(data: Fields, key: str, *, what: str) -> list[object]:
    """The array of records under ``key`` of ``data``.

    Raises:
        InvalidInputError: It is missing or not an array.
    """
    value = data.raw.get(key)
    if not isinstance(value, list):
        raise refuse(what, data.at(key), "missing" if value is None else "not an array")
    return value


def localized(record: Fields, key: str, *, header: FeedHeader, required: bool = True) -> str | None:
    """A name: plain text in 2.x, ``[{"text": …, "language": …}, …]`` in 3.0 (the first)."""
    if not header.v3:
        return record.text(key, required=required)
    texts = record.array(key, required=required)
    if texts is None:
        return None
    if not texts:
        record.fail(key, "empty")
        return None
    first = Fields.of(texts[0], f"{record.path}.{key}[0]", record.errors, record.record)
    return None if first is None else first.text("text")


def _position(record: Fields, *, required: bool) -> Position | None:
    lat = record.number("lat", required=required, low=-90, high=90, what="a latitude")
    lon = record.number("lon", required=required, low=-180, high=180, what="a longitude")
    if lat is None or lon is None:
        return None
    if lat == 0 and lon == 0:
        record.fail("lat", "0, 0 is not a position (a GPS without a fix)")
        return None
    return Position(lat=lat, lon=lon)


def parse_system_information(document: object) -> SystemInformation:
    """``system_information``: the system's id, name and time zone.

    Raises:
        InvalidInputError: The envelope is wrong or a required field is missing or bad (one
            file, one record: it is refused whole).
    """
    what = "GBFS system_information"
    header, data, errors = read_file(document, what=what)
    system_id, name = data.text("system_id"), localized(data, "name", header=header)
    timezone = data.text("timezone")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            data.fail("timezone", f"{timezone!r} is not an IANA time zone")
    languages = data.strings("languages") if header.v3 else (data.text("language"),)
    operator = localized(data, "operator", header=header, required=False)
    if errors or system_id is None or name is None or timezone is None:
        raise refuse(what, errors[0].path, errors[0].message)
    return SystemInformation(
        header=header,
        system_id=system_id,
        name=name,
        timezone=timezone,
        operator=operator,
        languages=tuple(lang for lang in languages or () if lang),
    )


def parse_vehicle_status(document: object, *, now: datetime | None = None) -> GbfsFeed[Vehicle]:
    """``vehicle_status`` (3.0) or ``free_bike_status`` (2.x): the vehicles listed, each checked.

    A vehicle at a station may omit its position; a ``last_reported`` more than five minutes
    after ``now`` (when given) is refused.

    Raises:
        InvalidInputError: The envelope is wrong or there is no ``vehicles`` (``bikes``) array.
    """
    what = "GBFS vehicle_status"
    header, data, errors = read_file(document, what=what)
    key, id_key = ("vehicles", "vehicle_id") if header.v3 else ("bikes", "bike_id")
    vehicles = []
    for i, raw in enumerate(records(data, key, what=what)):
        before = len(errors)
        record = Fields.of(raw, f"data.{key}[{i}]", errors, i)
        if record is None:
            continue
        vehicle_id = record.text(id_key)
        station_id = record.text("station_id", required=False)
        where = _position(record, required=station_id is None)
        reserved, disabled = record.boolean("is_reserved"), record.boolean("is_disabled")
        type_id = record.text("vehicle_type_id", required=False)
        reported = record.timestamp("last_reported", required=False, rfc3339=header.v3)
        if reported is not None and now is not None and reported > now + CLOCK_SKEW:
            record.fail("last_reported", f"{reported.isoformat()} is in the future")
        range_m = record.number(
            "current_range_meters", required=False, low=0, what="a range in metres (>= 0)"
        )
        if len(errors) > before or vehicle_id is None or reserved is None or disabled is None:
            continue
        vehicles.append(
            Vehicle(
                vehicle_id=vehicle_id,
                position=where,
                is_reserved=reserved,
                is_disabled=disabled,
                vehicle_type_id=type_id,
                last_reported=reported,
                current_range_m=range_m,
                station_id=station_id,
            )
        )
    return GbfsFeed(header=header, accepted=tuple(vehicles), rejected=tuple(errors))


def stale_vehicles(
    feed: GbfsFeed[Vehicle], *, now: datetime, max_age_s: float = 3600
) -> tuple[Vehicle, ...]:
    """The vehicles whose ``last_reported`` is more than ``max_age_s`` before ``now``: listed
    as available, but not heard from (a vehicle without ``last_reported`` is not judged)."""
    oldest = now - timedelta(seconds=max_age_s)
    return tuple(v for v in feed.accepted if v.last_reported and v.last_reported < oldest)


def parse_station_information(document: object) -> GbfsFeed[Station]:
    """``station_information``: the stations (parking places), each checked.

    Raises:
        InvalidInputError: The envelope is wrong or there is no ``stations`` array.
    """
    what = "GBFS station_information"
    header, data, errors = read_file(document, what=what)
    stations = []
    for i, raw in enumerate(records(data, "stations", what=what)):
        before = len(errors)
        record = Fields.of(raw, f"data.stations[{i}]", errors, i)
        if record is None:
            continue
        station_id, name = record.text("station_id"), localized(record, "name", header=header)
        where = _position(record, required=True)
        capacity = record.integer("capacity", required=False, low=0)
        if len(errors) == before and station_id and name and where:
            stations.append(
                Station(station_id=station_id, name=name, position=where, capacity=capacity)
            )
    return GbfsFeed(header=header, accepted=tuple(stations), rejected=tuple(errors))
