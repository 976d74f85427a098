"""An operator's compliance report for a day: its trips, its renters' violations per 1,000
trips by kind, its fleet on the street against the city's cap, how fast it acted on the
violations (when it reports that), and the fines due.

The fleet on the street is counted from snapshots: a GBFS vehicle list counts the vehicles it
lists plus the operator's trips under way at that moment (GBFS never lists a vehicle on a
trip, and rotates vehicle ids, so the two cannot be matched one by one); MDS telemetry counts
the distinct devices reporting within each quarter of an hour.

Example:
    >>> from kupol.scooters.registry import Operator
    >>> w = Operator(provider_id="p", name="Wind Rides", letter="W", fleet_cap=100)
    >>> report = compliance_report(operator=w, day=date(2026, 7, 15), trips=[], violations=[])
    >>> report.trips, report.total_per_1000, report.over_cap_by
    (0, 0.0, None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from kupol.scooters.fines import ScooterFine
from kupol.scooters.gbfs import GbfsFeed, Vehicle
from kupol.scooters.model import Telemetry, Trip
from kupol.scooters.registry import Operator
from kupol.scooters.violations import ScooterViolation, ViolationKind


@dataclass(frozen=True, kw_only=True)
class FleetCount:
    """How many of an operator's vehicles were on the street at one moment."""

    provider_id: str
    at: datetime
    vehicles: int
    source: str
    """``gbfs`` or ``telemetry``."""


@dataclass(frozen=True, kw_only=True)
class OperatorResponse:
    """What an operator did about a violation on one of its trips (warned, fined or blocked
    the rider, …) and when."""

    trip_id: str
    kind: ViolationKind
    acted_at: datetime
    action: str


@dataclass(frozen=True, kw_only=True)
class ResponseTimes:
    """How fast an operator acted on its renters' violations (minutes from the violation)."""

    acted: int
    """Violations the operator acted on."""
    not_acted: int
    median_min: float | None
    p90_min: float | None


@dataclass(frozen=True, kw_only=True)
class ComplianceReport:
    """An operator's day: trips, violations per 1,000 trips, fleet against the cap, responses,
    fines."""

    provider_id: str
    operator: str
    day: date
    trips: int
    violations: Mapping[ViolationKind, int]
    """Every kind, zeros included."""
    per_1000_trips: Mapping[ViolationKind, float]
    violations_total: int
    total_per_1000: float
    fleet_cap: int | None
    fleet_peak: int | None
    """The most vehicles counted at once (``None``: no count)."""
    fleet_peak_at: datetime | None
    over_cap_by: int | None
    """How far the peak was over the cap (0: within it; ``None``: no cap or no count)."""
    counts_over_cap: int
    """How many of the counts were over the cap."""
    responses: ResponseTimes | None
    fines_tenge: int | None


def fleet_count_from_gbfs(
    feed: GbfsFeed[Vehicle], *, provider_id: str, trips: Sequence[Trip] = ()
) -> FleetCount:
    """The vehicles a GBFS vehicle list shows (reserved and disabled ones too) plus the
    operator's ``trips`` under way when it was written."""
    at = feed.header.last_updated
    at_ms = at.timestamp() * 1000
    riding = sum(
        1 for t in trips if t.provider_id == provider_id and t.start_ms <= at_ms < t.end_ms
    )
    return FleetCount(
        provider_id=provider_id, at=at, vehicles=len(feed.accepted) + riding, source="gbfs"
    )


def fleet_counts_from_telemetry(
    points: Sequence[Telemetry], *, bucket_s: int = 900
) -> list[FleetCount]:
    """The distinct devices of each operator reporting in each ``bucket_s`` (15 minutes)."""
    seen: dict[tuple[str, int], set[str]] = {}
    for point in points:
        bucket = point.t_ms // (bucket_s * 1000)
        seen.setdefault((point.provider_id, bucket), set()).add(point.device_id)
    return [
        FleetCount(
            provider_id=provider,
            at=datetime.fromtimestamp(bucket * bucket_s, UTC),
            vehicles=len(devices),
            source="telemetry",
        )
        for (provider, bucket), devices in sorted(seen.items())
    ]


def _responses(
    violations: Sequence[ScooterViolation], responses: Sequence[OperatorResponse]
) -> ResponseTimes:
    acted = {(r.trip_id, r.kind): r.acted_at for r in responses}
    minutes = [
        max(0.0, (acted[(v.trip_id, v.kind)] - v.at).total_seconds() / 60)
        for v in violations
        if (v.trip_id, v.kind) in acted
    ]
    return ResponseTimes(
        acted=len(minutes),
        not_acted=len(violations) - len(minutes),
        median_min=round(float(np.median(minutes)), 1) if minutes else None,
        p90_min=round(float(np.percentile(minutes, 90)), 1) if minutes else None,
    )


def compliance_report(
    *,
    operator: Operator,
    day: date,
    trips: Sequence[Trip],
    violations: Sequence[ScooterViolation],
    fleet_counts: Sequence[FleetCount] = (),
    responses: Sequence[OperatorResponse] | None = None,
    fines: Sequence[ScooterFine] | None = None,
    timezone: str = "Asia/Almaty",
) -> ComplianceReport:
    """The operator's report for ``day`` (local): only its trips that started that day, their
    violations, its fleet counts of the day, and — when given — its responses and fines.

    Args:
        responses: What the operator did about violations; ``None``: it does not report it
            (the report's ``responses`` is then ``None``, not "never acted").
        fines: Fines worked out for the violations (:func:`~kupol.scooters.fines.fines_for`);
            those of the day's trips are summed.
    """
    tz = ZoneInfo(timezone)
    own = [
        t
        for t in trips
        if t.provider_id == operator.provider_id and t.start_time.astimezone(tz).date() == day
    ]
    trip_ids = {t.trip_id for t in own}
    found = [v for v in violations if v.trip_id in trip_ids]
    counts = {kind: sum(1 for v in found if v.kind is kind) for kind in ViolationKind}
    scale = 1000 / len(own) if own else 0.0
    fleet = [
        c
        for c in fleet_counts
        if c.provider_id == operator.provider_id and c.at.astimezone(tz).date() == day
    ]
    peak = max(fleet, key=lambda c: c.vehicles) if fleet else None
    cap = operator.fleet_cap
    return ComplianceReport(
        provider_id=operator.provider_id,
        operator=operator.name,
        day=day,
        trips=len(own),
        violations=counts,
        per_1000_trips={k: round(n * scale, 2) for k, n in counts.items()},
        violations_total=len(found),
        total_per_1000=round(len(found) * scale, 2),
        fleet_cap=cap,
        fleet_peak=peak.vehicles if peak else None,
        fleet_peak_at=peak.at if peak else None,
        over_cap_by=max(0, peak.vehicles - cap) if peak and cap is not None else None,
        counts_over_cap=sum(1 for c in fleet if cap is not None and c.vehicles > cap),
        responses=None if responses is None else _responses(found, responses),
        fines_tenge=None if fines is None else sum(f.tenge for f in fines if f.trip_id in trip_ids),
    )
