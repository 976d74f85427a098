"""The rules on hand-made trips: each kind of violation found where it is and not elsewhere,
and GPS noise — jitter, a jump, a short burst — not taken for speeding."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from kupol.core.errors import InvalidInputError
from kupol.scooters.model import Rider, Route
from kupol.scooters.rules import (
    CityRules,
    Curfew,
    Detection,
    ViolationKind,
    Zone,
    ZoneKind,
    check_trips,
)
from tests.unit.scooters.trips import START, T0, east, route, square, trip

RULES = CityRules()


def kinds(found: list) -> list[str]:
    return [v.kind.value for v in found]


def test_a_sustained_burst_over_25_is_speeding_with_its_speed_place_and_time() -> None:
    ride = route([(18, 60), (35, 40), (18, 60)])
    found = check_trips([trip(ride)], RULES)
    assert kinds(found) == ["speeding"]
    (v,) = found
    assert v.speed_kmh == pytest.approx(35, abs=0.5)
    assert v.limit_kmh == 25
    # the first window over the limit starts a few seconds before the burst (10 s windows)
    assert 52 <= (v.at.timestamp() * 1000 - T0) / 1000 <= 61
    assert 38 <= v.duration_s <= 52
    assert (v.trip_id, v.device_id, v.plate) == ("trip-1", trip(ride).device_id, "W123")
    assert v.position.lat == pytest.approx(START[0])


def test_two_bursts_on_one_trip_are_one_violation_of_their_total_duration() -> None:
    found = check_trips([trip(route([(18, 60), (35, 40), (18, 120), (31, 40), (18, 60)]))], RULES)
    assert kinds(found) == ["speeding"]
    assert found[0].detail == "2 stretches over the limit"
    assert 70 <= found[0].duration_s <= 100
    assert 31 <= found[0].speed_kmh <= 35


def test_riding_at_the_limit_plus_the_tolerance_is_not_speeding() -> None:
    assert check_trips([trip(route([(27.5, 300)]))], RULES) == []
    assert kinds(check_trips([trip(route([(29, 300)]))], RULES)) == ["speeding"]


def test_a_burst_shorter_than_the_sustained_time_is_not_reported() -> None:
    # 40 km/h for 8 s averages over the limit in a few windows only, for less than 10 s
    assert check_trips([trip(route([(18, 60), (40, 8), (18, 60)]))], RULES) == []


def test_a_single_gps_jump_is_not_speeding_but_would_be_between_two_fixes() -> None:
    ride = route([(20, 120)])
    lat, lon = ride.lat.copy(), ride.lon.copy()
    lat[60], lon[60] = lat[60] + 0.0004, east(lat[60], lon[60], 30)[1]  # 44 m off
    jumped = trip(Route.of(ride.t_ms, lat, lon))
    assert check_trips([jumped], RULES) == []
    naive = Detection(window_s=0.5, sustained_s=0)  # speed between consecutive fixes
    assert "speeding" in kinds(check_trips([jumped], RULES, detection=naive))


@pytest.mark.parametrize("interval_s", [1.0, 3.0, 5.0])
def test_gps_jitter_of_a_few_metres_at_22_kmh_is_not_speeding(interval_s: float) -> None:
    rides = [
        trip(route([(22, 600)], interval_s=interval_s, noise_m=4, seed=s), trip_id=f"t{s}")
        for s in range(10)
    ]
    assert check_trips(rides, RULES) == []
    if interval_s == 1.0:  # between consecutive fixes the same jitter reads as speeding
        naive = Detection(window_s=0.5, sustained_s=0)
        assert len(check_trips(rides, RULES, detection=naive)) >= 5


def test_speeding_in_a_slow_zone_uses_the_zones_limit_and_names_it() -> None:
    centre = east(*START, 300)
    park = square("park", ZoneKind.SLOW, centre, 150, max_speed_kmh=15)
    rules = CityRules(zones=(park,))
    fast = check_trips([trip(route([(20, 120)]))], rules)
    assert kinds(fast) == ["slow_zone_speeding"]
    assert (fast[0].limit_kmh, fast[0].zone) == (15, "park")
    assert fast[0].speed_kmh == pytest.approx(20, abs=0.5)
    assert check_trips([trip(route([(14, 200)]))], rules) == []


def test_a_sidewalk_zone_has_walking_pace_and_its_own_kind() -> None:
    walk = square("boulevard", ZoneKind.SLOW, east(*START, 150), 120, sidewalk=True)
    rules = CityRules(zones=(walk,))
    assert kinds(check_trips([trip(route([(12, 120)]))], rules)) == ["sidewalk_speeding"]
    assert check_trips([trip(route([(5, 400)]))], rules) == []


def test_points_the_operator_placed_on_a_sidewalk_have_walking_pace() -> None:
    ride = route([(12, 180)])
    on_sidewalk = np.zeros(len(ride), dtype=bool)
    on_sidewalk[60:120] = True
    marked = Route.of(ride.t_ms, ride.lat, ride.lon, on_sidewalk)
    found = check_trips([trip(marked)], RULES)
    assert kinds(found) == ["sidewalk_speeding"]
    assert (found[0].limit_kmh, found[0].zone) == (6, None)
    assert check_trips([trip(ride)], RULES) == []


def test_riding_through_a_no_ride_zone_is_one_violation_but_one_fix_inside_is_not() -> None:
    zone = square("palace", ZoneKind.NO_RIDE, east(*START, 300), 60)
    rules = CityRules(zones=(zone,))
    found = check_trips([trip(route([(18, 120)]))], rules)
    assert kinds(found) == ["no_ride_zone"]
    assert found[0].zone == "palace" and found[0].duration_s >= 20
    # a ride that ends 10 m into the zone has only its last fix inside
    short = route([(18, (300 - 60 + 10) / 5)])
    assert check_trips([trip(short)], rules) == []


def test_a_trip_without_a_route_is_checked_at_its_start_and_end() -> None:
    zone = square("palace", ZoneKind.NO_RIDE, east(*START, 2000), 50)
    found = check_trips([trip(end=east(*START, 2000))], CityRules(zones=(zone,)))
    assert kinds(found) == ["no_ride_zone"]
    assert found[0].detail == "no route: the trip starts or ends inside"


def test_ending_in_a_no_parking_zone_is_a_violation_riding_through_it_is_not() -> None:
    zone = square("arena", ZoneKind.NO_PARKING, east(*START, 100), 40)
    rules = CityRules(zones=(zone,))
    ends_inside = trip(route([(18, 20)]))  # 100 m: the zone's centre
    passes = trip(route([(18, 60)]), trip_id="trip-2")
    found = check_trips([ends_inside, passes], rules)
    assert [(v.kind.value, v.trip_id, v.zone) for v in found] == [("no_parking", "trip-1", "arena")]


NIGHT = CityRules(curfews=(Curfew(start=time(23), end=time(6)),))


@pytest.mark.parametrize(
    ("start_local", "minutes", "expected"),
    [
        ("23:30", 15, True),
        ("22:40", 19.5, False),  # ends 22:59:30
        ("22:50", 10.5, False),  # 30 s into the curfew: within the 60 s grace
        ("22:50", 12, True),
        ("05:50", 20, True),  # the morning end of the same window
        ("06:00", 20, False),
        ("02:00", 5, True),
    ],
)
def test_a_curfew_is_local_time_and_wraps_midnight(
    start_local: str, minutes: float, expected: bool
) -> None:
    hour, minute = map(int, start_local.split(":"))
    start = int(
        datetime(2026, 7, 15, hour - 5 if hour >= 5 else hour + 19, minute, tzinfo=UTC).timestamp()
        * 1000
    )
    if hour < 5:
        start -= 86_400_000  # 19:00 UTC of the day before is midnight in Astana
    found = check_trips([trip(start_ms=start, end_ms=start + int(minutes * 60_000))], NIGHT)
    assert kinds(found) == (["curfew"] if expected else [])


def test_a_rider_under_18_is_underage_from_their_18th_birthday_on_they_are_not() -> None:
    # the trip starts at 11:00 on 15 July 2026 in Astana
    young = Rider(rider_id="r1", birth_date=date(2008, 7, 16), licence=True)
    of_age = Rider(rider_id="r2", birth_date=date(2008, 7, 15), licence=True)
    found = check_trips([trip(rider=young), trip(rider=of_age, trip_id="trip-2")], RULES)
    assert [(v.kind.value, v.rider_id, v.detail) for v in found] == [("underage", "r1", "age 17")]


def test_a_rider_without_a_licence_is_reported_one_not_reported_is_not_judged() -> None:
    riders = [Rider(rider_id="a", licence=False), Rider(rider_id="b"), None]
    trips = [trip(rider=r, trip_id=f"t{i}") for i, r in enumerate(riders)]
    assert [(v.kind.value, v.rider_id) for v in check_trips(trips, RULES)] == [("unlicensed", "a")]
    relaxed = CityRules(licence_required=False)
    assert check_trips(trips, relaxed) == []


def test_violations_come_trip_by_trip_in_the_given_order_then_by_time() -> None:
    late = trip(
        route([(18, 30), (35, 60)], t0_ms=T0 + 3_600_000),
        trip_id="b",
        rider=Rider(rider_id="x", licence=False),
    )
    early = trip(route([(35, 60)]), trip_id="a")
    found = check_trips([late, early], RULES)
    assert [(v.trip_id, v.kind.value) for v in found] == [
        ("b", "unlicensed"),
        ("b", "speeding"),
        ("a", "speeding"),
    ]


def test_rules_refuse_a_zone_of_two_points_and_a_slow_zone_without_a_limit() -> None:
    with pytest.raises(InvalidInputError, match="3 distinct points"):
        Zone(name="x", kind=ZoneKind.NO_RIDE, polygon=((51.0, 71.0), (51.1, 71.0)))
    with pytest.raises(InvalidInputError, match="needs max_speed_kmh"):
        square("slow", ZoneKind.SLOW, START, 10)
    with pytest.raises(InvalidInputError, match="not an IANA time zone"):
        CityRules(timezone="Asia/Nowhere")
    assert ViolationKind.SIDEWALK_SPEEDING.speeding and not ViolationKind.CURFEW.speeding
