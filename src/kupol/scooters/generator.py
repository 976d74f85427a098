"""A synthetic but realistic day of rental e-scooter trips in Astana, with known violations.

Three operators' scooters ride trips at 10–22 km/h along street-like paths (right-angled
legs), slowing into corners and stopping at some, their GPS reporting every 1–5 s a few metres
off and now and then jumping tens of metres (:mod:`kupol.scooters.ride`). Trips keep the
rules of :func:`~kupol.scooters.astana.astana_rules` — they keep clear of no-ride zones, do not
end in no-parking zones, walk the sidewalk zone, ride slowly through the park, run between
06:00 and 23:00, and their riders are adults with a licence — except those chosen to break
one, which are the **ground truth** (:attr:`SyntheticDay.truth`):

* ``speeding``: a burst at 32–40 km/h for 30–90 s, clear of the slow zones;
* ``sidewalk_speeding`` / ``slow_zone_speeding``: through a slow zone at 13–20 km/h (the
  6 km/h sidewalk zone) or 22–24 km/h (the 15 km/h park);
* ``no_ride_zone``: straight through a no-ride zone; ``no_parking``: ending in one;
* ``curfew``: starting between 00:10 and 04:50; ``underage`` (14–17) and ``unlicensed``
  riders.

Everything comes from one seeded :class:`numpy.random.Generator`: the same seed, the same day.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from kupol.core.messages import KAZAKHSTAN
from kupol.scooters.astana import ZONES, astana_rules
from kupol.scooters.city import CityRules, ZoneKind
from kupol.scooters.model import Position, Rider, Route, Trip
from kupol.scooters.planner import Planner
from kupol.scooters.plates import ScooterPlate
from kupol.scooters.registry import Operator, Scooter
from kupol.scooters.ride import Fixes, to_latlon
from kupol.scooters.violations import ViolationKind as Kind

SHARES: Mapping[Kind, float] = {
    Kind.SPEEDING: 0.05,
    Kind.SIDEWALK_SPEEDING: 0.02,
    Kind.SLOW_ZONE_SPEEDING: 0.02,
    Kind.NO_RIDE_ZONE: 0.03,
    Kind.NO_PARKING: 0.03,
    Kind.CURFEW: 0.03,
    Kind.UNDERAGE: 0.02,
    Kind.UNLICENSED: 0.02,
}
"""The share of trips given each violation (the first five exclude each other)."""
_ON_PATH = (
    Kind.SPEEDING,
    Kind.SIDEWALK_SPEEDING,
    Kind.SLOW_ZONE_SPEEDING,
    Kind.NO_RIDE_ZONE,
    Kind.NO_PARKING,
)
_OPERATORS = (
    ("Wind Rides", "W", 0.45, 1.1),
    ("Yurt Go", "Y", 0.35, 1.1),
    ("Jel Scoot", "J", 0.20, 0.8),
)
"""Name, plate letter, share of the scooters, fleet cap as a share of them (J is over)."""
_HOURS = np.array(
    [0.3, 0.8, 1.2, 1.0, 0.8, 0.8, 1.0, 1.0, 0.9, 1.0, 1.2, 1.5, 1.7, 1.7, 1.5, 1.1, 0.5]
)
"""How busy each hour from 06:00 to 22:00 is."""
ZONE = KAZAKHSTAN
"""The synthetic days' local time."""
_TZ = ZONE


@dataclass(frozen=True, kw_only=True)
class InjectedViolation:
    """A violation the generator put into a trip on purpose."""

    kind: Kind
    trip_id: str
    zone: str | None = None


@dataclass(frozen=True, kw_only=True)
class SyntheticDay:
    """A generated day: the rules, the operators and their scooters, the trips, the truth."""

    day: date
    rules: CityRules
    operators: tuple[Operator, ...]
    scooters: tuple[Scooter, ...]
    parked: tuple[Position, ...]
    """Where each scooter stood at the start of the day (same order as ``scooters``)."""
    trips: tuple[Trip, ...]
    truth: tuple[InjectedViolation, ...]

    @property
    def points(self) -> int:
        """How many route points the trips have."""
        return sum(len(t.route) for t in self.trips if t.route is not None)


@dataclass(frozen=True, kw_only=True)
class _Draft:
    fixes: Fixes
    start_ms: int
    distance_m: float
    rider: Rider | None
    truth: tuple[tuple[Kind, str | None], ...]


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _birth(rng: np.random.Generator, day: date, low: int, high: int) -> date:
    """A birth date of someone ``low`` to ``high`` full years old on ``day``."""
    age = int(rng.integers(low, high + 1))
    try:
        birthday = day.replace(year=day.year - age)
    except ValueError:  # 29 February
        birthday = day.replace(year=day.year - age, day=28)
    return birthday - timedelta(days=int(rng.integers(1, 364)))


def _rider(rng: np.random.Generator, day: date, kinds: set[Kind]) -> Rider | None:
    rider_id = f"rider-{rng.integers(100_000, 999_999)}"
    if Kind.UNDERAGE in kinds:
        return Rider(rider_id=rider_id, birth_date=_birth(rng, day, 14, 17))
    if Kind.UNLICENSED in kinds:
        return Rider(rider_id=rider_id, birth_date=_birth(rng, day, 18, 40), licence=False)
    if rng.random() < 0.08:
        return None  # the operator did not say who rode
    licence = None if rng.random() < 0.05 else True
    return Rider(rider_id=rider_id, birth_date=_birth(rng, day, 18, 65), licence=licence)


def _start_s(rng: np.random.Generator, seconds: float, night: bool) -> int | None:
    """A local start time (seconds after midnight) for a trip of ``seconds``."""
    if night:
        return int(rng.uniform(10 * 60, 4 * 3600 + 50 * 60))
    hour = 6 + int(rng.choice(len(_HOURS), p=_HOURS / _HOURS.sum()))
    start = hour * 3600 + int(rng.uniform(0, 3600))
    if start < 6 * 3600 + 60 or start + seconds > 22 * 3600 + 58 * 60:
        return None
    return start


def _draft(
    planner: Planner, day: date, midnight_ms: int, shares: Mapping[Kind, float]
) -> _Draft | None:
    rng = planner.rng
    draws = {kind: rng.random() < share for kind, share in shares.items()}
    on_path = [k for k in _ON_PATH if draws.get(k)]
    kind = on_path[int(rng.integers(len(on_path)))] if on_path else None
    targets = (
        {
            Kind.SIDEWALK_SPEEDING: [z for z in ZONES if z.kind is ZoneKind.SLOW and z.sidewalk],
            Kind.SLOW_ZONE_SPEEDING: [
                z for z in ZONES if z.kind is ZoneKind.SLOW and not z.sidewalk
            ],
            Kind.NO_RIDE_ZONE: [z for z in ZONES if z.kind is ZoneKind.NO_RIDE],
            Kind.NO_PARKING: [z for z in ZONES if z.kind is ZoneKind.NO_PARKING],
        }.get(kind, [])
        if kind
        else []
    )
    target = targets[int(rng.integers(len(targets)))] if targets else None
    path = planner.path(kind, target)
    if not planner.keeps_rules(path, target):
        return None
    speed = planner.speeds(path, kind, target)
    if speed is None:
        return None
    fixes = planner.fixes(path, speed)
    start = _start_s(rng, fixes.t_ms[-1] / 1000, bool(draws.get(Kind.CURFEW)))
    if start is None:
        return None
    others = {k for k in (Kind.CURFEW, Kind.UNDERAGE, Kind.UNLICENSED) if draws.get(k)}
    if {Kind.UNDERAGE, Kind.UNLICENSED} <= others:
        others.discard(Kind.UNLICENSED)
    truth: list[tuple[Kind, str | None]] = [(k, None) for k in sorted(others)]
    if kind is not None:
        truth.append((kind, target.name if target else None))
    return _Draft(
        fixes=fixes,
        start_ms=midnight_ms + start * 1000,
        distance_m=path.length_m,
        rider=_rider(rng, day, others),
        truth=tuple(truth),
    )


def _fleet(rng: np.random.Generator, scooters: int) -> tuple[list[Operator], list[Scooter]]:
    operators, fleet = [], []
    for name, letter, share, cap in _OPERATORS:
        count = max(1, round(scooters * share))
        operator = Operator(
            provider_id=_uuid(rng), name=name, letter=letter, fleet_cap=round(count * cap)
        )
        operators.append(operator)
        numbers = rng.choice(99_999, size=count, replace=False) + 1
        fleet += [
            Scooter(
                plate=ScooterPlate(letter=letter, number=str(n)),
                device_id=_uuid(rng),
                provider_id=operator.provider_id,
                insurance_policy=f"KZ-{n:06d}",
                insured_until=date(2027, 6, 30),
            )
            for n in numbers
        ]
    return operators, fleet


def generate_day(
    *,
    trips: int = 2000,
    scooters: int = 400,
    seed: int = 0,
    day: date = date(2026, 7, 15),
    shares: Mapping[Kind, float] = SHARES,
    noise_m: float = 3.0,
    jump_share: float = 0.005,
) -> SyntheticDay:
    """A day of ``trips`` trips by ``scooters`` scooters of three operators in Astana.

    Args:
        trips: How many trips to draw (a few fewer when no scooter is free for one).
        scooters: The scooters, shared 45/35/20 between the operators.
        seed: The seed of the one random generator everything is drawn from.
        day: The day (local, Asia/Almaty).
        shares: The share of trips given each violation (:data:`SHARES`).
        noise_m: The GPS error in each axis (standard deviation, metres).
        jump_share: The share of fixes that jump 20–50 m.

    Example:
        >>> small = generate_day(trips=20, scooters=10, seed=1)
        >>> len(small.trips), len(small.operators), small.points > 1000
        (20, 3, True)
    """
    rng = np.random.default_rng(seed)
    operators, fleet = _fleet(rng, scooters)
    parked = [
        Position(lat=float(a), lon=float(b))
        for a, b in zip(
            *to_latlon(*rng.uniform((-3500, -4500), (3500, 4500), (len(fleet), 2)).T), strict=True
        )
    ]
    planner = Planner(rng, noise_m, jump_share)
    midnight_ms = int(datetime.combine(day, time(0), tzinfo=_TZ).timestamp() * 1000)
    drafts: list[_Draft] = []
    while len(drafts) < trips:
        draft = _draft(planner, day, midnight_ms, shares)
        if draft is not None:
            drafts.append(draft)
    drafts.sort(key=lambda d: d.start_ms)
    free_at = np.zeros(len(fleet), dtype=np.int64)
    out: list[Trip] = []
    truth: list[InjectedViolation] = []
    for draft in drafts:
        free = np.flatnonzero(free_at <= draft.start_ms - 120_000)
        if len(free) == 0:
            continue
        scooter = fleet[int(rng.choice(free))]
        end_ms = draft.start_ms + int(draft.fixes.t_ms[-1])
        free_at[fleet.index(scooter)] = end_ms
        route = Route.of(draft.start_ms + draft.fixes.t_ms, draft.fixes.lat, draft.fixes.lon)
        trip = Trip(
            provider_id=scooter.provider_id,
            device_id=scooter.device_id,
            trip_id=_uuid(rng),
            start_ms=draft.start_ms,
            end_ms=end_ms,
            start_location=Position(lat=float(route.lat[0]), lon=float(route.lon[0])),
            end_location=Position(lat=float(route.lat[-1]), lon=float(route.lon[-1])),
            duration_s=round((end_ms - draft.start_ms) / 1000),
            distance_m=draft.distance_m,
            plate=scooter.plate,
            rider=draft.rider,
            route=route,
        )
        out.append(trip)
        truth += [InjectedViolation(kind=k, trip_id=trip.trip_id, zone=z) for k, z in draft.truth]
    return SyntheticDay(
        day=day,
        rules=astana_rules(),
        operators=tuple(operators),
        scooters=tuple(fleet),
        parked=tuple(parked),
        trips=tuple(out),
        truth=tuple(truth),
    )
