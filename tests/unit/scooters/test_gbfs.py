"""GBFS feeds, 2.3 and 3.0: snapshots of a synthetic day read back, staleness from
``last_updated`` and ``ttl``, broken vehicles refused by path while the rest are kept, and the
operators' geofencing read into the city's zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.scooters.gbfs import (
    parse_station_information,
    parse_system_information,
    parse_vehicle_status,
    stale_vehicles,
)
from kupol.scooters.gbfs_zones import parse_geofencing_zones
from kupol.scooters.generator import SyntheticDay, generate_day
from kupol.scooters.rules import CityRules, ViolationKind, ZoneKind, check_trips, zones_from_gbfs
from kupol.scooters.synthetic_feeds import MISSING, broken, gbfs_snapshot

NOON = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)  # 12:00 in Astana


@pytest.fixture(scope="module")
def day() -> SyntheticDay:
    return generate_day(trips=200, scooters=60, seed=4)


@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_a_snapshot_lists_every_scooter_not_riding(day: SyntheticDay, version: str) -> None:
    operator = day.operators[0]
    snapshot = gbfs_snapshot(day, operator, at=NOON, version=version)
    key = "vehicle_status" if version == "3.0" else "free_bike_status"
    feed = parse_vehicle_status(snapshot.files[key], now=NOON)
    fleet = sum(1 for s in day.scooters if s.provider_id == operator.provider_id)
    assert feed.rejected == ()
    assert len(feed.accepted) == snapshot.listed == fleet - snapshot.on_trip
    assert snapshot.on_trip == sum(
        1
        for t in day.trips
        if t.provider_id == operator.provider_id
        and t.start_ms <= NOON.timestamp() * 1000 < t.end_ms
    )
    assert feed.header.version == version and feed.header.last_updated == NOON
    system = parse_system_information(snapshot.files["system_information"])
    assert (system.name, system.timezone) == (operator.name, "Asia/Almaty")
    assert parse_station_information(snapshot.files["station_information"]).accepted == ()


def test_a_file_is_stale_once_its_ttl_and_grace_have_passed(day: SyntheticDay) -> None:
    snapshot = gbfs_snapshot(day, day.operators[1], at=NOON, ttl_s=60)
    header = parse_vehicle_status(snapshot.files["free_bike_status"]).header
    assert header.expires_at == NOON + timedelta(seconds=60)
    assert not header.is_stale(NOON + timedelta(seconds=60))
    assert header.is_stale(NOON + timedelta(seconds=61))
    assert not header.is_stale(NOON + timedelta(seconds=61), grace_s=30)


def test_vehicles_not_heard_from_for_an_hour_are_stale(day: SyntheticDay) -> None:
    files = gbfs_snapshot(day, day.operators[0], at=NOON).files
    feed = parse_vehicle_status(files["free_bike_status"])
    stale = stale_vehicles(feed, now=NOON, max_age_s=3600)
    expected = [v for v in feed.accepted if v.last_reported < NOON - timedelta(hours=1)]
    assert stale == tuple(expected) and 0 < len(stale) < len(feed.accepted)
    assert stale_vehicles(feed, now=NOON, max_age_s=10**6) == ()


@pytest.mark.parametrize(
    ("version", "path", "value", "message"),
    [
        ("2.3", "data.bikes[2].lat", 95.2, "data.bikes[2].lat: 95.2 is not a latitude"),
        ("2.3", "data.bikes[2].lat", MISSING, "data.bikes[2].lat: missing"),
        (
            "2.3",
            "data.bikes[2].is_disabled",
            "no",
            'data.bikes[2].is_disabled: "no" is not true or false',
        ),
        ("2.3", "data.bikes[2].bike_id", MISSING, "data.bikes[2].bike_id: missing"),
        (
            "2.3",
            "data.bikes[2].last_reported",
            1_784_095_200_000,
            "data.bikes[2].last_reported: 1784095200000 is not a time in seconds since 1970 "
            "(2010-2100)",
        ),
        (
            "2.3",
            "data.bikes[2].current_range_meters",
            -1,
            "data.bikes[2].current_range_meters: -1 is not a range in metres (>= 0)",
        ),
        (
            "3.0",
            "data.vehicles[2].last_reported",
            "yesterday",
            'data.vehicles[2].last_reported: "yesterday" is not an RFC 3339 date-time '
            "with an offset",
        ),
        (
            "3.0",
            "data.vehicles[2].last_reported",
            "2026-07-15T13:00:00+05:00",
            "data.vehicles[2].last_reported: 2026-07-15T08:00:00+00:00 is in the future",
        ),
        ("3.0", "data.vehicles[2]", "vehicle", "data.vehicles[2]: a string, not an object"),
    ],
)
def test_a_broken_vehicle_is_refused_with_its_path_the_others_kept(
    day: SyntheticDay, version: str, path: str, value: object, message: str
) -> None:
    snapshot = gbfs_snapshot(day, day.operators[0], at=NOON, version=version)
    key = "vehicle_status" if version == "3.0" else "free_bike_status"
    feed = parse_vehicle_status(broken(snapshot.files[key], path, value), now=NOON)
    assert [str(e) for e in feed.rejected] == [message]
    assert len(feed.accepted) == snapshot.listed - 1


def test_a_vehicle_at_a_station_may_omit_its_position(day: SyntheticDay) -> None:
    files = gbfs_snapshot(day, day.operators[0], at=NOON).files
    docked = broken(broken(files["free_bike_status"], "data.bikes[0].lat"), "data.bikes[0].lon")
    docked = broken(docked, "data.bikes[0].station_id", "corral-1")
    vehicle = parse_vehicle_status(docked).accepted[0]
    assert (vehicle.position, vehicle.station_id) == (None, "corral-1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("version", "1.1"), "version: 1.1 is not supported"),
        (("version", MISSING), "version: missing"),
        (
            ("last_updated", "2026-07-15T12:00:00+05:00"),
            'last_updated: "2026-07-15T12:00:00+05:00" is not an integer >= 0',
        ),
        (("ttl", -5), "ttl: -5 is not an integer >= 0"),
        (("data", MISSING), "data: missing"),
        (("data.bikes", MISSING), "data.bikes: missing"),
    ],
)
def test_a_file_with_a_wrong_envelope_is_refused_whole(
    day: SyntheticDay, change: tuple[str, object], message: str
) -> None:
    file = gbfs_snapshot(day, day.operators[0], at=NOON).files["free_bike_status"]
    with pytest.raises(InvalidInputError) as error:
        parse_vehicle_status(broken(file, *change))
    assert message in error.value.detail


def test_system_information_with_a_bad_time_zone_is_refused(day: SyntheticDay) -> None:
    file = gbfs_snapshot(day, day.operators[0], at=NOON).files["system_information"]
    with pytest.raises(InvalidInputError, match=r"data\.timezone: 'Asia/Astana1' is not an IANA"):
        parse_system_information(broken(file, "data.timezone", "Asia/Astana1"))


@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_geofencing_zones_become_the_citys_zones(day: SyntheticDay, version: str) -> None:
    file = gbfs_snapshot(day, day.operators[0], at=NOON, version=version).files["geofencing_zones"]
    feed = parse_geofencing_zones(file)
    assert feed.rejected == ()
    zones = zones_from_gbfs(feed)
    assert [(z.name, z.kind) for z in zones] == [(z.name, z.kind) for z in day.rules.zones]
    slow = {z.name: z.max_speed_kmh for z in zones if z.kind is ZoneKind.SLOW}
    assert slow == {"Бәйтерек, Нұржол бульвары": 6, "Центральный парк": 15}
    # the zones read back find the same violations as the rules they were written from, but
    # GBFS cannot say a zone is a sidewalk: its speeding there is slow-zone speeding
    rules = CityRules(zones=zones, curfews=day.rules.curfews)
    sidewalk = {ViolationKind.SIDEWALK_SPEEDING: ViolationKind.SLOW_ZONE_SPEEDING}
    ours = [(v.trip_id, sidewalk.get(v.kind, v.kind)) for v in check_trips(day.trips, day.rules)]
    theirs = [(v.trip_id, v.kind) for v in check_trips(day.trips, rules)]
    assert ours == theirs and len(ours) > 10


def test_a_broken_zone_is_refused_by_its_coordinates_path(day: SyntheticDay) -> None:
    file = gbfs_snapshot(day, day.operators[0], at=NOON).files["geofencing_zones"]
    path = "data.geofencing_zones.features[1].geometry.coordinates[0][0][3]"
    feed = parse_geofencing_zones(broken(file, path, [71.4, 95.0]))
    assert [str(e) for e in feed.rejected] == [
        f"{path}: [71.4, 95.0] is not a [longitude, latitude] position"
    ]
    assert len(feed.accepted) == len(day.rules.zones) - 1
    rule = "data.geofencing_zones.features[0].properties.rules[0].ride_through_allowed"
    feed = parse_geofencing_zones(broken(file, rule, MISSING))
    assert [str(e) for e in feed.rejected] == [f"{rule}: missing"]


def test_vehicles_are_placed_where_their_last_trip_ended(day: SyntheticDay) -> None:
    operator = day.operators[0]
    evening = datetime(2026, 7, 15, 18, 30, tzinfo=UTC)  # 23:30 in Astana: all parked
    snapshot = gbfs_snapshot(day, operator, at=evening)
    listed = parse_vehicle_status(snapshot.files["free_bike_status"]).accepted
    ends = {
        (round(t.end_location.lat, 6), round(t.end_location.lon, 6))
        for t in day.trips
        if t.provider_id == operator.provider_id
    }
    placed = {(v.position.lat, v.position.lon) for v in listed if v.position}
    ridden = {t.device_id for t in day.trips if t.provider_id == operator.provider_id}
    assert len(placed & ends) == len(ridden)
    assert np.isclose(snapshot.on_trip, 0)
