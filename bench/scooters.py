"""E-scooter rules: route points checked per second by ``check_trips`` on a synthetic day of
at least 1,000,000 GPS points (the issue's target: ≥ 100,000 points/s on this 2-core
machine), with the precision and recall of the violations found against those injected.

The day is kupol's synthetic Astana (kupol.scooters.generator): three operators' scooters at
10–22 km/h, a fix every 1–5 s a few metres off, with speeding bursts, rides through no-ride
zones, parking in no-parking zones, night rides and underage or unlicensed riders injected.
``check_trips`` runs every rule — window speeds against the city-wide, slow-zone and sidewalk
limits, no-ride zones, no-parking, the curfew, the riders — on all the trips at once; the best
of ``--runs`` runs is reported. Reading the same trips from an MDS document (JSON text) is
timed too, for scale.

    .venv/bin/python bench/scooters.py [--points 1000000] [--runs 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

from kupol.scooters.generator import generate_day
from kupol.scooters.mds import parse_trips
from kupol.scooters.rules import check_trips
from kupol.scooters.synthetic_feeds import mds_trips_document

TARGET_POINTS_PER_S = 100_000
POINTS_PER_TRIP = 300  # about what a synthetic trip has


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    trips = max(1, args.points // POINTS_PER_TRIP)
    day = generate_day(trips=trips, scooters=max(50, trips // 5), seed=args.seed)
    while day.points < args.points:
        trips = int(trips * args.points / day.points) + 10
        day = generate_day(trips=trips, scooters=max(50, trips // 5), seed=args.seed)
    print(
        f"synthetic day: {len(day.trips):,} trips, {day.points:,} route points, "
        f"{len(day.truth):,} injected violations, generated in "
        f"{time.perf_counter() - start:.1f} s"
    )
    best = float("inf")
    found = []
    for _ in range(args.runs):
        start = time.perf_counter()
        found = check_trips(day.trips, day.rules)
        best = min(best, time.perf_counter() - start)
    rate = day.points / best
    verdict = "met" if rate >= TARGET_POINTS_PER_S else "NOT met"
    print(
        f"check_trips: {rate:,.0f} points/s ({best:.2f} s for {day.points:,} points, "
        f"best of {args.runs}; target >= {TARGET_POINTS_PER_S:,} points/s: {verdict})"
    )
    hits = {(v.trip_id, v.kind) for v in found} & {(v.trip_id, v.kind) for v in day.truth}
    print(
        f"violations: {len(found):,} found, precision {len(hits) / max(1, len(found)):.3f}, "
        f"recall {len(hits) / max(1, len(day.truth)):.3f} against the injected"
    )
    text = json.dumps(mds_trips_document(day.trips))
    start = time.perf_counter()
    result = parse_trips(text)
    parsed = time.perf_counter() - start
    print(
        f"MDS trips read and validated: {day.points / parsed:,.0f} points/s "
        f"({len(text) / 1e6:,.0f} MB of JSON, {len(result.accepted):,} trips, "
        f"{len(result.rejected)} rejected; no target)"
    )


if __name__ == "__main__":
    main()
