"""MDS feeds: a synthetic day's trips and telemetry read back as they were; every kind of
broken record refused with its path and reason while the others are kept; documents of the
wrong shape refused whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.scooters.generator import SyntheticDay, generate_day
from kupol.scooters.mds import parse_events, parse_telemetry, parse_trips
from kupol.scooters.mds_routes import attach_routes
from kupol.scooters.synthetic_feeds import (
    MISSING,
    TRIP_CORRUPTIONS,
    broken,
    corrupt_records,
    mds_telemetry_document,
    mds_trips_document,
)


@pytest.fixture(scope="module")
def day() -> SyntheticDay:
    return generate_day(trips=40, scooters=20, seed=3)


@pytest.fixture(scope="module")
def document(day: SyntheticDay) -> dict[str, Any]:
    return mds_trips_document(day.trips[:15])


def test_a_valid_feed_reads_back_as_the_trips_it_was_made_from(
    day: SyntheticDay, document: dict[str, Any]
) -> None:
    result = parse_trips(json.dumps(mds_trips_document(day.trips)).encode())
    assert result.rejected == ()
    assert len(result.accepted) == len(day.trips)
    for read, made in zip(result.accepted, day.trips, strict=True):
        assert read == made  # every field but the route
        assert read.route is not None and made.route is not None
        assert (read.route.t_ms == made.route.t_ms).all()
        assert np.allclose(read.route.lat, made.route.lat)


@pytest.mark.parametrize(("field", "value", "message"), TRIP_CORRUPTIONS)
def test_each_broken_field_is_refused_with_its_path_and_reason(
    document: dict[str, Any], field: str, value: object, message: str
) -> None:
    bad = broken(document, f"trips[3].{field}", value)
    result = parse_trips(bad)
    where = field + "[1]" if field.endswith("coordinates") else field
    assert [str(e) for e in result.rejected] == [f"trips[3].{where}: {message}"]
    assert result.rejected_records == (3,)
    assert len(result.accepted) == len(document["trips"]) - 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("end_time", 1_784_095_100_000, "trips[0].end_time: before start_time"),
        (
            "start_location",
            {"lat": 0, "lng": 0},
            "trips[0].start_location: 0, 0 is not a position (a GPS without a fix)",
        ),
        ("trip_id", MISSING, "trips[0].trip_id: missing"),
        ("distance", True, "trips[0].distance: true is not a distance in metres (>= 0)"),
        (
            "parking_category",
            "sidewalk",
            "trips[0].parking_category: 'sidewalk' is not one of "
            "['corral', 'curb', 'invalid', 'other_valid', 'rack']",
        ),
        (
            "rider",
            {"licence": "yes"},
            'trips[0].rider.rider_id: missing; trips[0].rider.licence: "yes" is not true or false',
        ),
        (
            "rider.birth_date",
            "2030-01-01",
            "trips[0].rider.birth_date: 2030-01-01 is after the trip",
        ),
        (
            "route.features[2].geometry.type",
            "LineString",
            'trips[0].route.features[2].geometry.type: "LineString" is not Point',
        ),
        ("route.features", [], "trips[0].route.features: empty"),
    ],
)
def test_more_broken_trips_and_their_messages(
    document: dict[str, Any], field: str, value: object, message: str
) -> None:
    trips = document["trips"]
    assert isinstance(trips, list)
    one = {"version": "2.0.0", "trips": [next(t for t in trips if "rider" in t)]}
    if field == "end_time":
        one = broken(one, "trips[0].start_time", 1_784_095_200_000)
    result = parse_trips(broken(one, f"trips[0].{field}", value))
    assert "; ".join(str(e) for e in result.rejected) == message
    assert result.accepted == ()


def test_randomly_broken_records_are_exactly_the_ones_refused(document: dict[str, Any]) -> None:
    bad, expected = corrupt_records(document, "trips", rng=np.random.default_rng(11), count=8)
    result = parse_trips(bad)
    assert {e.record: str(e) for e in result.rejected} == expected
    assert len(result.accepted) == len(document["trips"]) - 8


def test_a_time_in_the_future_is_refused_when_now_is_given(document: dict[str, Any]) -> None:
    trips = document["trips"]
    assert isinstance(trips, list)
    start = datetime.fromtimestamp(trips[0]["start_time"] / 1000, UTC)
    one = {"version": "2.0.0", "trips": [trips[0]]}
    assert parse_trips(one).accepted
    result = parse_trips(one, now=start)
    assert [e.path for e in result.rejected] == ["trips[0].end_time"]
    assert result.rejected[0].message.endswith("is in the future")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "MDS trips feed is not JSON"),
        ([], "MDS trips feed must be a JSON object, not an array"),
        ({"trips": []}, "MDS trips feed: version: missing"),
        ({"version": "1.2.0", "trips": []}, "version: 1.2.0 is not supported (MDS 2.x)"),
        ({"version": "2.0.0"}, "MDS trips feed: trips: missing"),
        ({"version": "2.0.0", "trips": {}}, "trips: an object, not an array"),
    ],
)
def test_a_document_of_the_wrong_shape_is_refused_whole(document: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_trips(document)


def test_the_mds_1_envelope_with_data_is_read_too(document: dict[str, Any]) -> None:
    assert len(parse_trips({"version": "2.0.0", "data": {"trips": document["trips"]}}).accepted)


def test_telemetry_builds_the_routes_of_trips_sent_without_one(day: SyntheticDay) -> None:
    telemetry = parse_telemetry(mds_telemetry_document(day.trips[:5]))
    assert telemetry.rejected == ()
    assert len(telemetry.accepted) == sum(len(t.route) for t in day.trips[:5] if t.route)
    bare = parse_trips(mds_trips_document([t for t in day.trips[:5]]))
    stripped = [t.__class__(**{**t.__dict__, "route": None}) for t in bare.accepted]
    rebuilt = attach_routes(stripped, telemetry.accepted)
    for made, again in zip(day.trips[:5], rebuilt, strict=True):
        assert again.route is not None and made.route is not None
        assert (again.route.t_ms == made.route.t_ms).all()


def test_broken_telemetry_points_name_their_field(day: SyntheticDay) -> None:
    document = mds_telemetry_document(day.trips[:1])
    bad = broken(document, "telemetry[12].location.lat", 95.2)
    bad = broken(bad, "telemetry[2].location", MISSING)
    bad = broken(bad, "telemetry[4].battery_percent", 140)
    result = parse_telemetry(bad)
    assert [str(e) for e in result.rejected] == [
        "telemetry[2].gps: missing",
        "telemetry[4].battery_percent: 140 is not a percentage",
        "telemetry[12].location.lat: 95.2 is not a latitude",
    ]


def test_events_are_read_and_an_unknown_state_is_refused() -> None:
    event = {
        "provider_id": "8a7f5c3e-1b2d-4c5e-9f60-7a8b9c0d1e2f",
        "device_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "event_id": "1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "vehicle_state": "on_trip",
        "event_types": ["trip_start"],
        "timestamp": 1_784_095_200_000,
        "location": {"lat": 51.14, "lng": 71.44},
        "trip_ids": ["x"],
    }
    result = parse_events(
        {"version": "2.0.0", "events": [event, {**event, "vehicle_state": "gone"}]}
    )
    assert [e.vehicle_state for e in result.accepted] == ["on_trip"]
    assert [str(e) for e in result.rejected] == [
        "events[1].vehicle_state: 'gone' is not an MDS vehicle state"
    ]
