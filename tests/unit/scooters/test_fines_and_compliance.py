"""The operators' fines as dated data (first offence, repeat within a year), and an operator's
day in a compliance report, on a small hand-made case with every number worked out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kupol.core.errors import ConfigError
from kupol.scooters.compliance import (
    FleetCount,
    OperatorResponse,
    compliance_report,
    fleet_count_from_gbfs,
    fleet_counts_from_telemetry,
)
from kupol.scooters.fines import DEFAULT_TABLE, fines_for, load_scooter_fines
from kupol.scooters.gbfs import FeedHeader, GbfsFeed, Vehicle
from kupol.scooters.model import Position, Telemetry
from kupol.scooters.registry import Operator
from kupol.scooters.violations import ScooterViolation, ViolationKind
from tests.unit.scooters.trips import PROVIDER, T0, trip

TABLE = load_scooter_fines()


def test_the_shipped_table_has_the_2026_amounts_with_a_source_to_check() -> None:
    text = DEFAULT_TABLE.read_text(encoding="utf-8")
    assert "MUST BE CHECKED AGAINST THE PUBLISHED TEXT" in text
    (period,) = TABLE.periods
    assert (period.start, period.first_tenge, period.repeat_tenge) == (
        date(2026, 7, 1),
        86_500,
        173_000,
    )
    assert period.source


@pytest.mark.parametrize(
    ("on", "earlier", "tenge"),
    [
        (date(2026, 6, 30), [], None),  # the day before the law applies
        (date(2026, 7, 1), [], 86_500),
        (date(2027, 7, 10), [date(2026, 7, 10)], 173_000),  # a year to the day: still repeat
        (date(2027, 7, 11), [date(2026, 7, 10)], 86_500),
        (date(2026, 9, 1), [date(2026, 9, 2)], 86_500),  # a later offence does not count
    ],
)
def test_a_repeat_offence_is_one_within_a_year_of_an_earlier(
    on: date, earlier: list[date], tenge: int | None
) -> None:
    fine = TABLE.fine(on=on, earlier=earlier)
    assert (fine.tenge if fine else None) == tenge


def test_a_table_with_a_missing_amount_is_refused_naming_the_period(tmp_path: Path) -> None:
    bad = tmp_path / "fines.toml"
    bad.write_text(
        '[[period]]\noffence = "speeding"\nfrom = 2026-07-01\nfirst_tenge = 1\n'
        'repeat_within_years = 1\nsource = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="period 1: repeat_tenge is missing or not int"):
        load_scooter_fines(bad)
    bad.write_text("[[period]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_scooter_fines(bad)


OPERATOR = Operator(provider_id=PROVIDER, name="Wind Rides", letter="W", fleet_cap=3)
DAY = date(2026, 7, 15)


def violation(trip_id: str, kind: ViolationKind, minutes: int) -> ScooterViolation:
    return ScooterViolation(
        kind=kind,
        trip_id=trip_id,
        provider_id=PROVIDER,
        device_id="d",
        plate="W123",
        rider_id=None,
        at=datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(minutes=minutes),
        position=Position(lat=51.14, lon=71.44),
    )


def test_an_operators_day_in_numbers() -> None:
    trips = [trip(trip_id=f"t{i}", start_ms=T0 + i * 3_600_000) for i in range(1, 5)]
    trips += [
        trip(trip_id="tomorrow", start_ms=T0 + 86_400_000),  # not the day's
        trip(trip_id="theirs", provider_id="another-operator"),  # not the operator's
    ]
    violations = [
        violation("t1", ViolationKind.SPEEDING, 70),
        violation("t2", ViolationKind.SPEEDING, 130),
        violation("t3", ViolationKind.CURFEW, 190),
        violation("tomorrow", ViolationKind.SPEEDING, 60 * 25),
    ]
    noon = datetime(2026, 7, 15, 7, tzinfo=UTC)
    counts = [
        FleetCount(provider_id=PROVIDER, at=noon + timedelta(hours=h), vehicles=n, source="gbfs")
        for h, n in ((0, 2), (1, 4), (2, 3))
    ]
    responses = [
        OperatorResponse(
            trip_id="t1",
            kind=ViolationKind.SPEEDING,
            acted_at=violations[0].at + timedelta(minutes=10),
            action="warned",
        ),
        OperatorResponse(
            trip_id="t3",
            kind=ViolationKind.CURFEW,
            acted_at=violations[2].at + timedelta(minutes=30),
            action="blocked",
        ),
    ]
    fines = fines_for(violations[:3], TABLE)
    assert [f.tenge for f in fines] == [86_500, 173_000]
    report = compliance_report(
        operator=OPERATOR,
        day=DAY,
        trips=trips,
        violations=violations,
        fleet_counts=counts,
        responses=responses,
        fines=fines,
    )
    assert report.trips == 4
    assert report.violations[ViolationKind.SPEEDING] == 2
    assert report.violations[ViolationKind.CURFEW] == 1
    assert report.violations[ViolationKind.NO_PARKING] == 0
    assert report.per_1000_trips[ViolationKind.SPEEDING] == 500.0
    assert report.per_1000_trips[ViolationKind.CURFEW] == 250.0
    assert (report.violations_total, report.total_per_1000) == (3, 750.0)
    assert (report.fleet_peak, report.fleet_peak_at) == (4, noon + timedelta(hours=1))
    assert (report.over_cap_by, report.counts_over_cap) == (1, 1)
    assert report.responses is not None
    assert (report.responses.acted, report.responses.not_acted) == (2, 1)
    assert (report.responses.median_min, report.responses.p90_min) == (20.0, 28.0)
    assert report.fines_tenge == 259_500
    quiet = compliance_report(operator=OPERATOR, day=DAY, trips=trips, violations=violations)
    assert (quiet.responses, quiet.fines_tenge, quiet.fleet_peak, quiet.over_cap_by) == (
        None,
        None,
        None,
        None,
    )


def test_fleet_counts_from_gbfs_add_the_trips_under_way_and_from_telemetry_per_quarter() -> None:
    header = FeedHeader(
        version="2.3", last_updated=datetime.fromtimestamp(T0 / 1000 + 60, UTC), ttl_s=60
    )
    listed = tuple(
        Vehicle(vehicle_id=f"v{i}", position=None, is_reserved=False, is_disabled=i == 0)
        for i in range(3)
    )
    feed = GbfsFeed(header=header, accepted=listed, rejected=())
    riding = [trip(trip_id="a"), trip(trip_id="b", start_ms=T0 + 120_000)]
    assert fleet_count_from_gbfs(feed, provider_id=PROVIDER, trips=riding).vehicles == 4

    def point(device: str, minute: int) -> Telemetry:
        return Telemetry(
            provider_id=PROVIDER,
            device_id=device,
            telemetry_id=f"{device}{minute}",
            t_ms=T0 + minute * 60_000,
            position=Position(lat=51.1, lon=71.4),
        )

    points = [point("a", 0), point("a", 5), point("b", 14), point("c", 15)]
    assert [c.vehicles for c in fleet_counts_from_telemetry(points)] == [2, 1]
