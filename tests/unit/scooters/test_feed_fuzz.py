"""Hostile scooter feeds (MDS trips, telemetry and events; GBFS system information, vehicle
status, stations and geofencing zones): bytes mutated, values replaced by hostile JSON; each is
read, with bad records refused by path, or refused whole with a domain error — never a raw
exception."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kupol.core.errors import InvalidInputError
from kupol.scooters.gbfs import (
    parse_station_information,
    parse_system_information,
    parse_vehicle_status,
)
from kupol.scooters.gbfs_zones import parse_geofencing_zones
from kupol.scooters.generator import generate_day
from kupol.scooters.mds import parse_events, parse_telemetry, parse_trips
from kupol.scooters.synthetic_feeds import gbfs_snapshot, mds_telemetry_document, mds_trips_document
from tests.unit.fuzzing import FUZZ, hostile, json_mutated, refused_or_read

NOON = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)
DAY = generate_day(trips=6, scooters=6, seed=5)
EVENT = {
    "provider_id": "8a7f5c3e-1b2d-4c5e-9f60-7a8b9c0d1e2f",
    "device_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "event_id": "1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "vehicle_state": "on_trip",
    "event_types": ["trip_start"],
    "timestamp": 1_784_095_200_000,
    "location": {"lat": 51.14, "lng": 71.44},
    "trip_ids": ["x"],
}
V2 = gbfs_snapshot(DAY, DAY.operators[0], at=NOON, version="2.3").files
V3 = gbfs_snapshot(DAY, DAY.operators[0], at=NOON, version="3.0").files
FEEDS: dict[str, tuple[Callable[[object], object], object]] = {
    "mds trips": (lambda d: parse_trips(d, now=NOON), mds_trips_document(DAY.trips[:3])),
    "mds telemetry": (lambda d: parse_telemetry(d, now=NOON),
                      mds_telemetry_document(DAY.trips[:1])),
    "mds events": (lambda d: parse_events(d, now=NOON), {"version": "2.0.0", "events": [EVENT]}),
    "gbfs 2 system": (parse_system_information, V2["system_information"]),
    "gbfs 3 system": (parse_system_information, V3["system_information"]),
    "gbfs 2 vehicles": (lambda d: parse_vehicle_status(d, now=NOON), V2["free_bike_status"]),
    "gbfs 3 vehicles": (lambda d: parse_vehicle_status(d, now=NOON), V3["vehicle_status"]),
    "gbfs stations": (parse_station_information, V3["station_information"]),
    "gbfs 2 zones": (parse_geofencing_zones, V2["geofencing_zones"]),
    "gbfs 3 zones": (parse_geofencing_zones, V3["geofencing_zones"]),
}  # fmt: skip


def as_json(document: Any) -> bytes:
    return json.dumps(document, default=str).encode()


@pytest.mark.parametrize("feed", FEEDS)
@FUZZ
@given(data=st.data())
def test_a_feed_with_hostile_values_is_read_or_refused(feed: str, data: st.DataObject) -> None:
    parse, document = FEEDS[feed]
    read = refused_or_read(lambda: parse(data.draw(json_mutated(document))))
    header = getattr(read, "header", None)
    if header is not None:
        header.is_stale(NOON)  # a GBFS file's time and ttl are usable


def test_a_gbfs_ttl_beyond_a_year_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="ttl"):
        parse_vehicle_status({**V3["vehicle_status"], "ttl": 2**70}, now=NOON)


def test_a_feed_nested_too_deeply_is_refused() -> None:
    for parse, _ in FEEDS.values():
        with pytest.raises(InvalidInputError, match="nested too deeply"):
            parse(b"[" * 100_000)


@pytest.mark.parametrize("feed", FEEDS)
@FUZZ
@given(data=st.data())
def test_a_feed_of_hostile_bytes_is_read_or_refused(feed: str, data: st.DataObject) -> None:
    parse, document = FEEDS[feed]
    refused_or_read(lambda: parse(data.draw(hostile(as_json(document), noise='{}[]":,0e-.'))))
