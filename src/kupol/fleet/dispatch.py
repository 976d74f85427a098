"""Dispatch: for an incident (or a place), the available units ranked by their estimated time
of arrival; the operator sends one; its arrival is recorded from its telemetry.

Available: not ``fault``, ``charging`` or ``returning``, link not ``lost``, and not already sent
somewhere. Each unit's time, from its last position (or home, if never heard):

- a **drone** flies straight at 80 % of its top speed after a 30 s take-off, if its battery
  (or, never heard, a full one) lasts there and back with the reserve kept;
- a **patrol car** drives the road graph (each road at its speed, capped by the car's);
  a **foot patrol** or **robot dog** walks it at 80 % of its top speed;
- with no road graph configured, ground units' times are the straight line × 1.4 at their
  pace, and say so (``how: estimate``).

A dispatch keeps the route and the estimate; the unit has arrived when its telemetry puts it
within ``[fleet] arrive_within_m`` of the target (or when the operator says so).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.core.messages import utcnow
from kupol.fleet.model import Dispatch, Unit
from kupol.fleet.roads import RoadGraph
from kupol.fleet.service import Sample
from kupol.settings import FleetSettings

TAKEOFF_S = 30.0
DETOUR = 1.4
UNAVAILABLE = ("fault", "charging", "returning")


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """A unit that could go, and how long it would take."""

    callsign: str
    kind: str
    eta_s: float
    metres: float
    how: str
    route: list[list[float]]
    status: str
    battery_pct: float | None


@dataclass(frozen=True, kw_only=True)
class DispatchView:
    id: int
    callsign: str
    incident_id: int | None
    target: tuple[float, float]
    eta_s: float
    how: str
    route: list[list[float]]
    status: str
    dispatched_by: str
    dispatched_at: datetime
    arrived_at: datetime | None


class Dispatcher:
    """Ranks units for a place, records dispatches and arrivals (see the module)."""

    def __init__(
        self, *, db: Database, audit: AuditLog, settings: FleetSettings,
        roads: RoadGraph | None,
    ) -> None:  # fmt: skip
        self._db = db
        self._audit = audit
        self.settings = settings
        self.roads = roads
        self._lock = threading.Lock()
        self._targets: dict[int, tuple[int, float, float]] | None = None
        """unit id → (dispatch id, lat, lon) of the dispatches en route."""
        self._arrived: list[tuple[int, datetime]] = []
        self.on_status: list[Callable[[int, str], None]] = []
        """Called with (unit id, status) when a dispatch sets a unit's status."""

    def rank(
        self, *, actor: Principal, lat: float | None = None, lon: float | None = None,
        incident_id: int | None = None, limit: int = 10,
    ) -> list[Candidate]:  # fmt: skip
        """The available units, quickest first.

        Raises:
            InvalidInputError: neither a place nor an incident, or a place out of range.
            NotFoundError: no such incident.
        """
        actor.require(Permission.FLEET_READ)
        target = self._target(lat, lon, incident_id)
        with self._db.reader() as session:
            busy = set(
                session.scalars(select(Dispatch.unit_id).where(Dispatch.status == "en_route"))
            )
            units = [
                u
                for u in session.scalars(select(Unit))
                if u.status not in UNAVAILABLE and u.link != "lost" and u.id not in busy
            ]
        found = [c for c in (self._estimate(u, target) for u in units) if c is not None]
        found.sort(key=lambda c: (c.eta_s, c.callsign))
        return found[:limit]

    def send(
        self, *, actor: Principal, callsign: str, lat: float | None = None,
        lon: float | None = None, incident_id: int | None = None,
    ) -> DispatchView:  # fmt: skip
        """Send a unit (audited).

        Raises:
            NotFoundError: no such unit or incident.
            ConflictError: the unit is not available (its status, a lost link, another
                dispatch), or cannot reach the place (no road to it, a drone's battery).
        """
        actor.require(Permission.FLEET_MANAGE)
        target = self._target(lat, lon, incident_id)
        with self._db.unit_of_work() as session:
            unit = session.scalar(select(Unit).where(Unit.callsign == callsign))
            if unit is None:
                raise NotFoundError(f"no unit {callsign!r}")
            if unit.status in UNAVAILABLE or unit.link == "lost":
                raise ConflictError(
                    f"{callsign} is not available ({unit.status}, link {unit.link})"
                )
            if session.scalar(
                select(Dispatch.id).where(
                    Dispatch.unit_id == unit.id, Dispatch.status == "en_route"
                )
            ):
                raise ConflictError(f"{callsign} is already on its way somewhere")
            found = self._estimate(unit, target)
            if found is None:
                raise ConflictError(f"{callsign} cannot reach the place (no road, or its battery)")
            row = Dispatch(
                unit_id=unit.id, incident_id=incident_id, lat=target[0], lon=target[1],
                eta_s=round(found.eta_s, 1), route=found.route, how=found.how,
                status="en_route", dispatched_by=actor.username,
            )  # fmt: skip
            session.add(row)
            unit.status = "on_mission"
            session.flush()
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="dispatch",
                            resource_type="fleet_unit", resource_id=callsign,
                            details={"incident": incident_id, "eta_s": round(found.eta_s),
                                     "target": list(target)}),
                session=session,
            )  # fmt: skip
            view = self._view(row, callsign)
            unit_id = unit.id
        with self._lock:
            if self._targets is not None:
                self._targets[unit_id] = (view.id, target[0], target[1])
        for hook in self.on_status:
            hook(unit_id, "on_mission")
        return view

    def dispatches(self, *, actor: Principal, open_only: bool = False) -> list[DispatchView]:
        """Dispatches, newest first."""
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            query = select(Dispatch, Unit.callsign).join(Unit, Unit.id == Dispatch.unit_id)
            if open_only:
                query = query.where(Dispatch.status == "en_route")
            rows = session.execute(query.order_by(Dispatch.id.desc()).limit(500))
            return [self._view(d, c) for d, c in rows]

    def close(self, *, actor: Principal, dispatch_id: int, status: str) -> DispatchView:
        """Record an arrival by hand, or call the unit back (audited)."""
        actor.require(Permission.FLEET_MANAGE)
        if status not in ("arrived", "cancelled"):
            raise InvalidInputError("status must be arrived or cancelled")
        with self._db.unit_of_work() as session:
            row = session.get(Dispatch, dispatch_id)
            if row is None:
                raise NotFoundError(f"no dispatch {dispatch_id}")
            if row.status != "en_route":
                raise ConflictError(f"dispatch {dispatch_id} is already {row.status}")
            row.status = status
            if status == "arrived":
                row.arrived_at = utcnow()
            callsign = session.scalar(select(Unit.callsign).where(Unit.id == row.unit_id)) or "?"
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action=status,
                            resource_type="dispatch", resource_id=str(dispatch_id)),
                session=session,
            )  # fmt: skip
            view = self._view(row, callsign)
            unit_id = row.unit_id
        with self._lock:
            if self._targets is not None:
                self._targets.pop(unit_id, None)
        return view

    # Arrivals from telemetry ----------------------------------------------------------------

    def on_sample(self, unit_id: int, sample: Sample) -> None:
        """A unit's sample (called by the fleet for every one): near its target, it arrived."""
        with self._lock:
            if self._targets is None:
                self._load_targets()
            assert self._targets is not None
            target = self._targets.get(unit_id)
            if target is None:
                return
            if haversine_m((sample.lat, sample.lon), target[1:]) <= self.settings.arrive_within_m:
                self._arrived.append((target[0], sample.at))
                del self._targets[unit_id]

    def record_arrivals(self) -> int:
        """Store the arrivals telemetry showed since the last call; how many."""
        with self._lock:
            arrived, self._arrived = self._arrived, []
        if not arrived:
            return 0
        with self._db.unit_of_work() as session:
            for dispatch_id, at in arrived:
                row = session.get(Dispatch, dispatch_id)
                if row is not None and row.status == "en_route":
                    row.status, row.arrived_at = "arrived", at
        return len(arrived)

    def _load_targets(self) -> None:
        with self._db.reader() as session:
            self._targets = {
                d.unit_id: (d.id, d.lat, d.lon)
                for d in session.scalars(select(Dispatch).where(Dispatch.status == "en_route"))
            }

    # Estimates ------------------------------------------------------------------------------

    def _target(
        self, lat: float | None, lon: float | None, incident_id: int | None
    ) -> tuple[float, float]:
        if incident_id is not None:
            from kupol.incidents.model import Incident

            with self._db.reader() as session:
                incident = session.get(Incident, incident_id)
                if incident is None:
                    raise NotFoundError(f"no incident {incident_id}")
                return (incident.latitude, incident.longitude)
        if lat is None or lon is None:
            raise InvalidInputError("give an incident or a place (lat and lon)")
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):  # fmt: skip
            raise InvalidInputError("lat and lon must be a position")
        return (lat, lon)

    def _estimate(self, unit: Unit, target: tuple[float, float]) -> Candidate | None:
        start = (unit.lat, unit.lon) if unit.lat is not None and unit.lon is not None else (
            unit.home_lat, unit.home_lon)  # fmt: skip
        pace = unit.max_speed_kmh / 3.6 * (1.0 if unit.kind == "patrol_car" else 0.8)
        straight = haversine_m(start, target)
        if unit.kind == "drone":
            eta = TAKEOFF_S + straight / pace
            battery = unit.battery_pct if unit.battery_pct is not None else 100.0
            left_s = unit.endurance_min * 60 * battery / 100
            if 2 * straight / pace > left_s * (1 - self.settings.endurance_reserve):
                return None
            return self._candidate(unit, eta, straight, "air", [start, target])
        if self.roads is None:
            metres = straight * DETOUR
            return self._candidate(unit, metres / pace, metres, "estimate", [start, target])
        route = self.roads.route(start, target, pace_mps=pace, car=unit.kind == "patrol_car")
        if route is None:
            return None
        return self._candidate(unit, route.seconds, route.metres, "roads", route.path)

    @staticmethod
    def _candidate(
        unit: Unit, eta: float, metres: float, how: str, path: list[tuple[float, float]]
    ) -> Candidate:
        return Candidate(
            callsign=unit.callsign, kind=unit.kind, eta_s=round(eta, 1), metres=round(metres, 1),
            how=how, route=[[round(p[0], 7), round(p[1], 7)] for p in path], status=unit.status,
            battery_pct=unit.battery_pct,
        )  # fmt: skip

    @staticmethod
    def _view(row: Dispatch, callsign: str) -> DispatchView:
        return DispatchView(
            id=row.id, callsign=callsign, incident_id=row.incident_id, target=(row.lat, row.lon),
            eta_s=row.eta_s, how=row.how, route=row.route, status=row.status,
            dispatched_by=row.dispatched_by, dispatched_at=row.dispatched_at,
            arrived_at=row.arrived_at,
        )  # fmt: skip
