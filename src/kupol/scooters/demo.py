"""A day of rental e-scooters for the demo and the tests: the generated day's operators (each
with its system's ``mobility`` account), scooters and city zones registered, then its trips
sent as each operator's MDS feed and its GBFS vehicle lists once an hour — through the same
service calls as the API makes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta

from kupol.core.auth import Principal
from kupol.scooters.generator import ZONE, SyntheticDay
from kupol.scooters.service import FeedAnswer, Scooters
from kupol.scooters.synthetic_feeds import gbfs_snapshot, mds_trips_document

BINS = ("260140000001", "260140000002", "260140000003")
FEED_CHUNK = 500
"""Trips a feed request carries (operators page their feeds)."""


def seed_day(
    scooters: Scooters, *, manager: Principal, accounts: Mapping[str, Principal],
    day: SyntheticDay,
) -> dict[str, FeedAnswer]:  # fmt: skip
    """Register ``day``'s operators (with ``accounts[provider_id]`` as each one's system),
    scooters and zones, then send its trips and hourly GBFS lists; what each operator's feeds
    answered."""
    for n, operator in enumerate(day.operators):
        scooters.register_operator(
            actor=manager, provider_id=operator.provider_id, name=operator.name,
            letter=operator.letter, bin=BINS[n % len(BINS)], fleet_cap=operator.fleet_cap or 10_000,
            account=accounts[operator.provider_id].username,
        )  # fmt: skip
        fleet = [s for s in day.scooters if s.provider_id == operator.provider_id]
        scooters.register_scooters(actor=manager, provider_id=operator.provider_id, scooters=[
            {"plate": s.plate.text, "device_id": s.device_id, "insurer": "Demo Insurance JSC",
             "policy_no": s.insurance_policy, "insured_until": s.insured_until}
            for s in fleet
        ])  # fmt: skip
    for zone in day.rules.zones:
        scooters.add_zone(actor=manager, name=zone.name, kind=zone.kind.value,
                          polygon=[list(p) for p in zone.polygon],
                          max_speed_kmh=zone.max_speed_kmh, sidewalk=zone.sidewalk)  # fmt: skip
    answers: dict[str, FeedAnswer] = {}
    for operator in day.operators:
        account = accounts[operator.provider_id]
        own = [t for t in day.trips if t.provider_id == operator.provider_id]
        total = FeedAnswer(accepted=0, duplicates=0, violations=0, rejected=[])
        for start in range(0, len(own), FEED_CHUNK):
            document = mds_trips_document(own[start : start + FEED_CHUNK])
            got = scooters.submit_trips(actor=account, document=document)
            total = FeedAnswer(
                accepted=total.accepted + got.accepted,
                duplicates=total.duplicates + got.duplicates,
                violations=total.violations + got.violations,
                rejected=total.rejected + got.rejected,
            )  # fmt: skip
        answers[operator.provider_id] = total
        # the day's own (local) hours: at UTC hours the evening's lists were still in the
        # future when the demo seeded yesterday before 24:00 UTC (feeds refuse them)
        midnight = datetime.combine(day.day, time(0), ZONE)
        for hour in range(6, 24):
            at = midnight + timedelta(hours=hour)
            snapshot = gbfs_snapshot(day, operator, at=at)
            scooters.submit_gbfs(actor=account, document=_vehicles(snapshot.files))
    return answers


def _vehicles(files: Mapping[str, Mapping[str, object]]) -> Mapping[str, object]:
    for name in ("vehicle_status", "free_bike_status"):
        if name in files:
            return files[name]
    raise KeyError("no GBFS vehicle list among the files")
