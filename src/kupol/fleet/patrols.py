"""Patrol planning: routes for a shift that take the units past the riskiest streets, within
their endurance, home again at the end — and not the same every day.

**The risk map.** Each street segment of the road graph scores the road accidents near it
(within ``NEAR_M`` of its middle; weighted by severity as the road-safety analytics weight
them — fatal 10, serious 5, slight 1, damage only 0.2) and the incidents near it (2 each), over
the last ``days``.

**The problem** is a team orienteering problem: the ``candidates`` riskiest segments are
places to pass; each unit leaves its home, visits some of them, and is back within its time
(the shift or its endurance with the reserve kept, whichever is shorter); the plan collects as
much risk as it can. Travel times come from the road graph at each unit's pace. It is solved
with **OR-Tools**' routing solver (each place an optional visit whose penalty is its risk;
guided local search for ``time_limit_s``).

**Not predictable.** Each shift's plan multiplies every place's risk by a random factor
between ``1 − jitter`` and ``1 + jitter`` drawn from the shift's seed, so two shifts' routes
differ while the riskiest places stay likely; the seed is kept with the plan so a plan can be
reproduced for review.

**How good.** :func:`exact_best` solves small instances exactly (dynamic programming over the
subsets of places for each unit, then the best split of places between units); the tests and
``docs/fleet.md`` state OR-Tools' gap to it on synthetic cities.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.core.messages import utcnow
from kupol.fleet.model import Unit
from kupol.fleet.roads import RoadGraph
from kupol.settings import FleetSettings

NEAR_M = 150.0
SEVERITY = {"fatal": 10.0, "serious": 5.0, "slight": 1.0, "damage_only": 0.2}
INCIDENT_WEIGHT = 2.0
PENALTY = 1_000_000
"""OR-Tools works in integers: a unit of risk left out costs this many seconds of travel."""

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Place:
    """A street segment worth passing: its middle, its risk."""

    point: LatLon
    risk: float


@dataclass(frozen=True)
class Patroller:
    """A unit to plan for: where it starts and ends, its pace, how long it may be out."""

    callsign: str
    home: LatLon
    pace_mps: float
    car: bool
    limit_s: float


@dataclass(frozen=True, kw_only=True)
class PatrolRoute:
    callsign: str
    places: list[LatLon]
    """The places in the order visited."""
    path: list[LatLon]
    """The whole way over the streets, home to home."""
    seconds: float
    risk: float
    speed_mps: float
    """The pace it was planned at: a mission made of the route keeps it."""


@dataclass(frozen=True, kw_only=True)
class PatrolPlan:
    routes: list[PatrolRoute]
    risk_covered: float
    """The (unjittered) risk of the places visited."""
    risk_available: float
    """The risk of all the candidate places."""
    seed: int


def risk_map(db: Database, roads: RoadGraph, *, until: datetime, days: int = 365) -> list[Place]:
    """Each street segment's risk from the accidents and incidents near it (see the module)."""
    from kupol.incidents.model import Incident
    from kupol.roads.model import Accident

    since = until - timedelta(days=days)
    with db.reader() as session:
        points = [
            (lat, lon, SEVERITY.get(sev, 1.0))
            for lat, lon, sev in session.execute(
                select(Accident.latitude, Accident.longitude, Accident.severity).where(
                    Accident.occurred_at >= since,
                    Accident.occurred_at <= until,
                    Accident.latitude.is_not(None),
                    Accident.longitude.is_not(None),
                )
            )
            if lat is not None and lon is not None
        ]
        points += [
            (lat, lon, INCIDENT_WEIGHT)
            for lat, lon in session.execute(
                select(Incident.latitude, Incident.longitude).where(
                    Incident.occurred_from >= since, Incident.occurred_from <= until
                )
            )
        ]
    return score_segments(roads, points)


def score_segments(roads: RoadGraph, points: Sequence[tuple[float, float, float]]) -> list[Place]:
    """Street segments scored by the weighted points within ``NEAR_M`` of their middles."""
    buckets: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
    for lat, lon, weight in points:
        buckets.setdefault((math.floor(lat * 200), math.floor(lon * 200)), []).append(
            (lat, lon, weight)
        )
    places = []
    for u, v, _ in roads.segments():
        middle = ((u[0] + v[0]) / 2, (u[1] + v[1]) / 2)
        i, j = math.floor(middle[0] * 200), math.floor(middle[1] * 200)
        risk = sum(
            w
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            for lat, lon, w in buckets.get((i + di, j + dj), ())
            if haversine_m(middle, (lat, lon)) <= NEAR_M
        )
        if risk > 0:
            places.append(Place(middle, risk))
    places.sort(key=lambda p: -p.risk)
    return places


def plan_patrols(
    roads: RoadGraph, units: Sequence[Patroller], places: Sequence[Place], *,
    candidates: int = 30, seed: int = 0, jitter: float = 0.25, time_limit_s: float = 3.0,
) -> PatrolPlan:  # fmt: skip
    """Routes for ``units`` over the ``candidates`` riskiest ``places`` (see the module).

    Raises:
        InvalidInputError: no unit, or a jitter outside 0–0.9.
    """
    from ortools.constraint_solver import (  # type: ignore[import-untyped]
        pywrapcp,
        routing_enums_pb2,
    )
    from ortools.util import optional_boolean_pb2  # type: ignore[import-untyped]

    if not units:
        raise InvalidInputError("plan for at least one unit")
    if not 0 <= jitter <= 0.9:
        raise InvalidInputError("jitter must be between 0 and 0.9")
    chosen = list(places[:candidates])
    rng = random.Random(seed)
    prizes = [p.risk * rng.uniform(1 - jitter, 1 + jitter) for p in chosen]
    homes = [u.home for u in units]
    nodes = homes + [p.point for p in chosen]  # node i < len(units): unit i's home
    n_units = len(units)
    times = [roads.matrix(nodes, pace_mps=u.pace_mps, car=u.car) for u in units]
    manager = pywrapcp.RoutingIndexManager(len(nodes), n_units, list(range(n_units)),
                                           list(range(n_units)))  # fmt: skip
    routing = pywrapcp.RoutingModel(manager)
    big = 10**9

    def callback_for(k: int) -> int:
        def cost(i: int, j: int) -> int:
            t = times[k][manager.IndexToNode(i)][manager.IndexToNode(j)]
            return big if math.isinf(t) else round(t)

        return int(routing.RegisterTransitCallback(cost))

    transits = [callback_for(k) for k in range(n_units)]
    for k in range(n_units):
        routing.SetArcCostEvaluatorOfVehicle(transits[k], k)
    routing.AddDimensionWithVehicleTransitAndCapacity(
        transits, 0, [round(u.limit_s) for u in units], True, "time"
    )
    for p, prize in enumerate(prizes):
        # Dropping a place costs its risk, far above any travel time: risk comes first.
        routing.AddDisjunction([manager.NodeToIndex(n_units + p)], round(prize * PENALTY))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    # The moves that make places visited or not, and swap them, off by default: they are what
    # a prize-collecting problem needs (measured: 84 → 94, the optimum, on the test city).
    operators = params.local_search_operators
    for name in ("use_make_active", "use_relocate_and_make_active",
                 "use_exchange_and_make_active", "use_make_inactive", "use_make_chain_inactive",
                 "use_swap_active", "use_extended_swap_active", "use_inactive_lns"):  # fmt: skip
        setattr(operators, name, optional_boolean_pb2.BOOL_TRUE)
    params.time_limit.FromMilliseconds(round(time_limit_s * 1000))
    solution = routing.SolveWithParameters(params)
    routes = []
    for k, unit in enumerate(units):
        order: list[int] = []
        if solution is not None:
            index = routing.Start(k)
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                if node >= n_units:
                    order.append(node - n_units)
                index = solution.Value(routing.NextVar(index))
        routes.append(_route(roads, unit, [chosen[i] for i in order]))
    covered = sum(r.risk for r in routes)
    return PatrolPlan(routes=routes, risk_covered=round(covered, 3),
                      risk_available=round(sum(p.risk for p in chosen), 3), seed=seed)  # fmt: skip


def _route(roads: RoadGraph, unit: Patroller, visits: list[Place]) -> PatrolRoute:
    stops = [unit.home, *[p.point for p in visits], unit.home]
    path: list[LatLon] = [unit.home]
    seconds = 0.0
    for a, b in itertools.pairwise(stops):
        leg = roads.route(a, b, pace_mps=unit.pace_mps, car=unit.car) if a != b else None
        if leg is not None:
            path.extend(leg.path[1:])
            seconds += leg.seconds
    return PatrolRoute(
        callsign=unit.callsign, places=[p.point for p in visits], path=path,
        seconds=round(seconds, 1), risk=round(sum(p.risk for p in visits), 3),
        speed_mps=math.floor(unit.pace_mps * 1000) / 1000,  # never above the unit's top
    )  # fmt: skip


def exact_best(roads: RoadGraph, units: Sequence[Patroller], places: Sequence[Place]) -> float:
    """The most risk any plan can cover (small instances: up to about 12 places).

    For each unit, dynamic programming over (subset of places, last place) gives the
    quickest tour of every subset; a subset is feasible for the unit when that tour is within
    its time. The best plan gives disjoint feasible subsets to the units.
    """
    n = len(places)
    if n > 14:
        raise InvalidInputError("exact_best is for small instances (at most 14 places)")
    best_sets: list[dict[int, float]] = []
    for unit in units:
        full = roads.matrix([unit.home, *[p.point for p in places]], pace_mps=unit.pace_mps,
                            car=unit.car)  # fmt: skip
        leg = [row[1:] for row in full[1:]]
        out = full[0][1:]
        back = [row[0] for row in full[1:]]
        tour: dict[int, float] = {}
        dp: dict[tuple[int, int], float] = {(1 << i, i): out[i] for i in range(n)}
        for size in range(1, n + 1):
            for mask in (m for m in range(1, 1 << n) if bin(m).count("1") == size):
                for last in range(n):
                    t = dp.get((mask, last))
                    if t is None:
                        continue
                    total = t + back[last]
                    if total <= unit.limit_s:
                        tour[mask] = min(tour.get(mask, math.inf), total)
                    for nxt in range(n):
                        if mask & (1 << nxt):
                            continue
                        key = (mask | (1 << nxt), nxt)
                        value = t + leg[last][nxt]
                        if value < dp.get(key, math.inf):
                            dp[key] = value
        feasible = {0: 0.0}
        for mask in tour:
            feasible[mask] = sum(places[i].risk for i in range(n) if mask & (1 << i))
        best_sets.append(feasible)
    best: dict[int, float] = {0: 0.0}
    for feasible in best_sets:
        merged: dict[int, float] = {}
        for used, value in best.items():
            for mask, risk in feasible.items():
                if used & mask:
                    continue
                union = used | mask
                if value + risk > merged.get(union, -1.0):
                    merged[union] = value + risk
        best = merged
    return max(best.values())


class Patrols:
    """Plans a shift's patrols for ground units from the stored accidents and incidents."""

    def __init__(
        self, *, db: Database, audit: AuditLog, settings: FleetSettings, roads: RoadGraph | None
    ) -> None:
        self._db = db
        self._audit = audit
        self.settings = settings
        self.roads = roads

    def plan(
        self, *, actor: Principal, callsigns: Sequence[str], shift_minutes: int,
        seed: int | None = None, candidates: int = 30, days: int = 365,
        time_limit_s: float = 3.0,
    ) -> PatrolPlan:  # fmt: skip
        """Routes for the shift (audited).

        Raises:
            InvalidInputError: no road graph, no unit, a drone (they fly missions), a shift of
                under 10 minutes or over 24 hours, no risky street.
            NotFoundError: an unknown callsign.
        """
        actor.require(Permission.FLEET_MANAGE)
        if self.roads is None:
            raise InvalidInputError("patrol planning needs a road graph ([fleet] roads)")
        if not 10 <= shift_minutes <= 24 * 60:
            raise InvalidInputError("shift_minutes must be between 10 and 1,440")
        if not 1 <= len(set(callsigns)) <= 50:
            raise InvalidInputError("plan for 1 to 50 units")
        if not 2 <= candidates <= 200:
            raise InvalidInputError("candidates must be between 2 and 200")
        with self._db.reader() as session:
            rows = {u.callsign: u for u in session.scalars(select(Unit).where(
                Unit.callsign.in_(list(callsigns))))}  # fmt: skip
        missing = sorted(set(callsigns) - set(rows))
        if missing:
            raise NotFoundError(f"no unit {', '.join(missing)}")
        units = []
        for callsign in dict.fromkeys(callsigns):
            row = rows[callsign]
            if row.kind == "drone":
                raise InvalidInputError(f"{callsign} is a drone: drones fly missions")
            pace = row.max_speed_kmh / 3.6 * (1.0 if row.kind == "patrol_car" else 0.8)
            limit = min(shift_minutes, row.endurance_min * (1 - self.settings.endurance_reserve))
            units.append(Patroller(callsign, (row.home_lat, row.home_lon), pace,
                                   row.kind == "patrol_car", limit * 60))  # fmt: skip
        places = risk_map(self._db, self.roads, until=utcnow(), days=days)
        if not places:
            raise InvalidInputError(
                f"no street has an accident or incident near it in the last {days} days"
            )
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        plan = plan_patrols(self.roads, units, places, candidates=candidates, seed=seed,
                            time_limit_s=time_limit_s)  # fmt: skip
        self._audit.append(
            AuditRecord(actor=actor.username, roles=actor.roles, action="plan_patrols",
                        resource_type="fleet_unit", resource_id=",".join(rows)[:200],
                        details={"shift_minutes": shift_minutes, "seed": seed,
                                 "risk_covered": plan.risk_covered,
                                 "risk_available": plan.risk_available}),
        )  # fmt: skip
        return plan
