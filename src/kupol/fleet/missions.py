"""Missions and geofences.

A mission is a unit's waypoints, flown or walked from its home and back. Before it is
accepted kupol checks, and refuses with the reason:

- every waypoint is a position, a drone's altitude is 1 m to ``[fleet] max_alt_m`` above home
  (a robot dog's is 0), and its optional hold — seconds the unit stays there (a drone hovering
  to watch a road: MAVLink ``NAV_WAYPOINT``'s param 1) — is 0 to an hour;
- the speed is above 0 and at most the unit's top speed;
- a drone's whole path (home → waypoints → home) enters no active **no-fly zone** — a leg
  crossing a zone between two waypoints outside it counts (no-fly zones are airspace: ground
  units pass under them);
- a patrol car's, foot patrol's or robot dog's path follows the streets of the road graph, when
  one is configured (its length and time are the streets');
- with a **patrol area**, the path stays inside it (home may lie outside: the legs from and to
  home are not held to it);
- the path, with the holds, takes at most ``1 − endurance_reserve`` of the unit's endurance at
  that speed.

A drone's mission is exported as a **QGroundControl plan** (``.plan`` JSON) and as **MAVLink
mission items** (``MISSION_ITEM_INT``: home, take-off, the waypoints, return to launch), which
kupol uploads to the autopilot over the MAVLink mission protocol
(:meth:`kupol.fleet.mavlink.MavlinkListener.upload_mission`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.db import Database
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError
from kupol.core.geo import haversine_m
from kupol.fleet.geofence import KINDS, Fence, check_polygon
from kupol.fleet.model import Geofence, Mission, Unit
from kupol.fleet.roads import RoadGraph
from kupol.settings import FleetSettings

MAX_WAYPOINTS = 500
MAX_HOLD_S = 3600.0
"""The longest a unit may be told to stay at one waypoint."""

# MAVLink command and frame numbers (common.xml): kept here so the .plan export needs no
# pymavlink import.
MAV_CMD_NAV_WAYPOINT = 16
MAV_CMD_NAV_RETURN_TO_LAUNCH = 20
MAV_CMD_NAV_TAKEOFF = 22
MAV_FRAME_GLOBAL = 0
MAV_FRAME_GLOBAL_RELATIVE_ALT = 3


@dataclass(frozen=True, kw_only=True)
class FenceView:
    id: int
    name: str
    kind: str
    polygon: list[list[float]]
    active: bool
    created_by: str
    created_at: datetime


def hold_s(waypoint: list[float]) -> float:
    """How long a unit stays at a waypoint (its fourth value; none: 0)."""
    return float(waypoint[3]) if len(waypoint) > 3 else 0.0


@dataclass(frozen=True, kw_only=True)
class MissionView:
    id: int
    callsign: str
    name: str
    waypoints: list[list[float]]
    speed_mps: float
    patrol_area: str | None
    length_m: float
    duration_s: float
    status: str
    created_by: str
    created_at: datetime
    uploaded_at: datetime | None
    path: list[list[float]] | None = None
    """The whole way, home to home: over the streets for a ground unit with a road graph."""
    reached_seq: int | None = None
    """The last mission item the drone reported reached (1 take-off, 2… the waypoints)."""


@dataclass(frozen=True)
class MissionItem:
    """One MAVLink mission item (``MISSION_ITEM_INT``)."""

    seq: int
    frame: int
    command: int
    params: tuple[float, float, float, float]
    lat: float
    lon: float
    alt: float


def _fence_view(row: Geofence) -> FenceView:
    return FenceView(
        id=row.id, name=row.name, kind=row.kind, polygon=row.polygon, active=row.active,
        created_by=row.created_by, created_at=row.created_at,
    )  # fmt: skip


class Missions:
    """Geofences and missions (see the module)."""

    def __init__(self, *, db: Database, audit: AuditLog, settings: FleetSettings) -> None:
        self._db = db
        self._audit = audit
        self.settings = settings
        self.roads: RoadGraph | None = None
        """The road graph ground units' missions follow (set by the domain)."""
        self.on_fences_changed: list[Callable[[], None]] = []
        self.on_mission_area: list[Callable[[int, Fence | None], None]] = []
        """Called with (unit id, its active mission's patrol area or None) when a mission
        becomes active or ends (the live check follows it)."""
        """Called after a geofence is added or switched (the live checks reload them)."""

    # Geofences ------------------------------------------------------------------------

    def add_fence(
        self, *, actor: Principal, name: str, kind: str, polygon: list[list[float]]
    ) -> FenceView:
        """Add a geofence (audited).

        Raises:
            InvalidInputError: no name, an unknown kind, a bad polygon.
            ConflictError: the name is taken.
        """
        actor.require(Permission.FLEET_MANAGE)
        name = name.strip()
        if not 1 <= len(name) <= 120:
            raise InvalidInputError("name must be 1–120 characters")
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        points = check_polygon(polygon)
        try:
            with self._db.unit_of_work() as session:
                row = Geofence(name=name, kind=kind, polygon=[list(p) for p in points],
                               active=True, created_by=actor.username)  # fmt: skip
                session.add(row)
                session.flush()
                self._audit.append(
                    AuditRecord(actor=actor.username, roles=actor.roles, action="add",
                                resource_type="geofence", resource_id=name,
                                details={"kind": kind, "points": len(points)}),
                    session=session,
                )  # fmt: skip
                view = _fence_view(row)
        except IntegrityError as exc:
            raise ConflictError(f"a geofence is already named {name!r}") from exc
        for hook in self.on_fences_changed:
            hook()
        return view

    def set_fence_active(self, *, actor: Principal, name: str, active: bool) -> FenceView:
        """Switch a geofence on or off (audited)."""
        actor.require(Permission.FLEET_MANAGE)
        with self._db.unit_of_work() as session:
            row = session.scalar(select(Geofence).where(Geofence.name == name))
            if row is None:
                raise NotFoundError(f"no geofence {name!r}")
            row.active = active
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles,
                            action="activate" if active else "deactivate",
                            resource_type="geofence", resource_id=name),
                session=session,
            )  # fmt: skip
            view = _fence_view(row)
        for hook in self.on_fences_changed:
            hook()
        return view

    def fences(self, *, actor: Principal | None = None, active_only: bool = False) -> list[Fence]:
        """The geofences as checked (``actor`` None: kupol's own checks)."""
        if actor is not None:
            actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            query = select(Geofence).order_by(Geofence.name)
            if active_only:
                query = query.where(Geofence.active.is_(True))
            return [
                Fence(r.name, r.kind, tuple((p[0], p[1]) for p in r.polygon))
                for r in session.scalars(query)
            ]

    def fence_views(self, *, actor: Principal) -> list[FenceView]:
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            return [
                _fence_view(r) for r in session.scalars(select(Geofence).order_by(Geofence.name))
            ]

    # Missions -------------------------------------------------------------------------

    def plan(
        self, *, actor: Principal, callsign: str, name: str, waypoints: list[list[float]],
        speed_mps: float | None = None, patrol_area: str | None = None,
    ) -> MissionView:  # fmt: skip
        """Check and store a mission (status ``planned``; audited).

        Raises:
            NotFoundError: no such unit or patrol area.
            InvalidInputError: the mission fails a check (see the module); the message says
                which and by how much.
        """
        actor.require(Permission.FLEET_MANAGE)
        name = name.strip()
        if not 1 <= len(name) <= 120:
            raise InvalidInputError("name must be 1–120 characters")
        if not 1 <= len(waypoints) <= MAX_WAYPOINTS:
            raise InvalidInputError(f"a mission has 1 to {MAX_WAYPOINTS} waypoints")
        with self._db.reader() as session:
            unit = session.scalar(select(Unit).where(Unit.callsign == callsign))
            if unit is None:
                raise NotFoundError(f"no unit {callsign!r}")
            area_row = None
            if patrol_area is not None:
                area_row = session.scalar(
                    select(Geofence).where(
                        Geofence.name == patrol_area, Geofence.kind == "patrol_area"
                    )
                )
                if area_row is None:
                    raise NotFoundError(f"no patrol area {patrol_area!r}")
            home = (unit.home_lat, unit.home_lon)
            kind, endurance, top = unit.kind, unit.endurance_min, unit.max_speed_kmh
            area_id = area_row.id if area_row else None
            area = (
                Fence(area_row.name, area_row.kind, tuple((p[0], p[1]) for p in area_row.polygon))
                if area_row
                else None
            )
        points = self._check_waypoints(waypoints, drone=kind == "drone")
        speed = speed_mps if speed_mps is not None else top / 3.6 * 0.8
        if not (math.isfinite(speed) and 0 < speed <= top / 3.6 + 1e-9):
            raise InvalidInputError(
                f"speed must be above 0 and at most the unit's top speed ({top / 3.6:.1f} m/s)"
            )
        stops = [home, *[(p[0], p[1]) for p in points], home]
        if area is not None and not area.holds(stops[1:-1]):
            raise InvalidInputError(f"the waypoints leave the patrol area {area.name!r}")
        if kind != "drone" and self.roads is not None:
            path, length, duration = self._over_streets(stops, speed, car=kind == "patrol_car")
        else:
            path = stops
            length = sum(haversine_m(a, b) for a, b in itertools.pairwise(path))
            duration = length / speed
        duration += sum(hold_s(p) for p in points)
        for fence in self.fences(active_only=True) if kind == "drone" else ():
            if fence.kind == "no_fly" and fence.entered_by(path):
                raise InvalidInputError(f"the path enters the no-fly zone {fence.name!r}")
        allowed = endurance * 60 * (1 - self.settings.endurance_reserve)
        if duration > allowed:
            raise InvalidInputError(
                f"the mission takes {duration / 60:.0f} min at {speed:.1f} m/s ({length / 1000:.1f}"
                f" km); the unit may work {allowed / 60:.0f} min of its {endurance} with the "
                f"reserve kept"
            )
        with self._db.unit_of_work() as session:
            row = Mission(
                unit_id=session.scalar(select(Unit.id).where(Unit.callsign == callsign)),
                name=name, waypoints=points, speed_mps=speed, patrol_area_id=area_id,
                path=[[round(p[0], 7), round(p[1], 7)] for p in path],
                length_m=round(length, 1), duration_s=round(duration, 1), status="planned",
                created_by=actor.username,
            )  # fmt: skip
            session.add(row)
            session.flush()
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action="plan",
                            resource_type="mission", resource_id=str(row.id),
                            details={"unit": callsign, "waypoints": len(points),
                                     "length_m": round(length)}),
                session=session,
            )  # fmt: skip
            return self._view(row, callsign, patrol_area)

    def mission(self, *, actor: Principal, mission_id: int) -> MissionView:
        """One mission.

        Raises:
            NotFoundError: no such mission.
        """
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            row = session.get(Mission, mission_id)
            if row is None:
                raise NotFoundError(f"no mission {mission_id}")
            callsign = session.scalar(select(Unit.callsign).where(Unit.id == row.unit_id))
            area = (
                session.scalar(select(Geofence.name).where(Geofence.id == row.patrol_area_id))
                if row.patrol_area_id
                else None
            )
            return self._view(row, callsign or "?", area)

    def missions(self, *, actor: Principal, callsign: str | None = None) -> list[MissionView]:
        """Missions, newest first (or one unit's)."""
        actor.require(Permission.FLEET_READ)
        with self._db.reader() as session:
            query = (
                select(Mission, Unit.callsign, Geofence.name)
                .join(Unit, Unit.id == Mission.unit_id)
                .outerjoin(Geofence, Geofence.id == Mission.patrol_area_id)
            )
            if callsign is not None:
                query = query.where(Unit.callsign == callsign)
            rows = session.execute(query.order_by(Mission.id.desc()).limit(500))
            return [self._view(m, c, a) for m, c, a in rows]

    def set_status(self, *, mission_id: int, status: str, actor: Principal) -> MissionView:
        """Move a mission on: uploaded, active, done, aborted (audited)."""
        actor.require(Permission.FLEET_MANAGE)
        if status not in ("uploaded", "active", "done", "aborted"):
            raise InvalidInputError("status must be uploaded, active, done or aborted")
        from kupol.core.messages import utcnow

        with self._db.unit_of_work() as session:
            row = session.get(Mission, mission_id)
            if row is None:
                raise NotFoundError(f"no mission {mission_id}")
            if row.status in ("done", "aborted"):
                raise ConflictError(f"mission {mission_id} is already {row.status}")
            row.status = status
            if status == "uploaded":
                row.uploaded_at = utcnow()
            self._audit.append(
                AuditRecord(actor=actor.username, roles=actor.roles, action=status,
                            resource_type="mission", resource_id=str(mission_id)),
                session=session,
            )  # fmt: skip
            unit_id = row.unit_id
            area = session.get(Geofence, row.patrol_area_id) if row.patrol_area_id else None
            fence = (
                Fence(area.name, area.kind, tuple((p[0], p[1]) for p in area.polygon))
                if area is not None and status == "active"
                else None
            )
        for hook in self.on_mission_area:
            hook(unit_id, fence)
        return self.mission(actor=actor, mission_id=mission_id)

    def progress(self, callsign: str, message: str, seq: int) -> MissionView | None:
        """What a drone says of its uploaded mission: ``MISSION_CURRENT`` past the take-off
        makes it ``active``; ``MISSION_ITEM_REACHED`` records the item, and the last waypoint
        reached makes it ``done`` (the drone then returns to launch). Status changes are
        audited as the system's, from the drone. Returns the mission when it changed."""
        from kupol.core.auth.service import SYSTEM

        with self._db.reader() as session:
            row = session.scalar(
                select(Mission)
                .join(Unit, Unit.id == Mission.unit_id)
                .where(Unit.callsign == callsign, Mission.status.in_(("uploaded", "active")))
                .order_by(Mission.uploaded_at.desc(), Mission.id.desc())
                .limit(1)
            )
            if row is None:
                return None
            mission_id, status, reached = row.id, row.status, row.reached_seq
            last_waypoint = len(row.waypoints) + 1
        changed = False
        if message == "MISSION_ITEM_REACHED" and seq > (reached or 0):
            with self._db.unit_of_work() as session:
                stored = session.get(Mission, mission_id)
                if stored is not None:
                    stored.reached_seq = seq
            changed = True
        if status == "uploaded" and seq >= 1:
            self.set_status(mission_id=mission_id, status="active", actor=SYSTEM)
            changed = True
        if message == "MISSION_ITEM_REACHED" and seq >= last_waypoint:
            self.set_status(mission_id=mission_id, status="done", actor=SYSTEM)
            changed = True
        return self.mission(actor=SYSTEM, mission_id=mission_id) if changed else None

    # Exports --------------------------------------------------------------------------

    def mission_items(self, mission: MissionView, home: tuple[float, float]) -> list[MissionItem]:
        """The mission as MAVLink mission items: home (seq 0, as ArduPilot keeps it), take-off
        to the first waypoint's altitude, the waypoints, return to launch."""
        first_alt = mission.waypoints[0][2] if mission.waypoints else 10.0
        items = [
            MissionItem(0, MAV_FRAME_GLOBAL, MAV_CMD_NAV_WAYPOINT, (0, 0, 0, 0),
                        home[0], home[1], 0.0),
            MissionItem(1, MAV_FRAME_GLOBAL_RELATIVE_ALT, MAV_CMD_NAV_TAKEOFF, (0, 0, 0, 0),
                        home[0], home[1], first_alt),
        ]  # fmt: skip
        frame, none = MAV_FRAME_GLOBAL_RELATIVE_ALT, (0.0, 0.0, 0.0, 0.0)
        for w in mission.waypoints:
            # NAV_WAYPOINT's param 1 is the hold: seconds hovering at the point.
            hold = (hold_s(w), 0.0, 0.0, 0.0)
            items.append(MissionItem(len(items), frame, MAV_CMD_NAV_WAYPOINT, hold, w[0], w[1],
                                     w[2]))  # fmt: skip
        items.append(
            MissionItem(len(items), frame, MAV_CMD_NAV_RETURN_TO_LAUNCH, none, 0.0, 0.0, 0.0)
        )
        return items

    def qgc_plan(self, mission: MissionView, home: tuple[float, float]) -> dict[str, Any]:
        """The mission as a QGroundControl plan file (``.plan``, JSON; version 1, mission
        version 2; the items as simple items; the active no-fly zones as exclusion polygons)."""
        items = []
        for item in self.mission_items(mission, home)[1:]:  # QGC keeps home apart
            items.append({
                "type": "SimpleItem", "autoContinue": True, "command": item.command,
                "doJumpId": item.seq, "frame": item.frame,
                "params": [*item.params, item.lat, item.lon, item.alt],
                "AMSLAltAboveTerrain": None, "Altitude": item.alt, "AltitudeMode": 1,
            })  # fmt: skip
        polygons = [
            {"inclusion": False, "polygon": [list(p) for p in fence.polygon], "version": 1}
            for fence in self.fences(active_only=True)
            if fence.kind == "no_fly"
        ]
        return {
            "fileType": "Plan", "version": 1, "groundStation": "kupol",
            "mission": {
                "version": 2, "firmwareType": 3, "vehicleType": 2,
                "cruiseSpeed": mission.speed_mps, "hoverSpeed": mission.speed_mps,
                "globalPlanAltitudeMode": 1,
                "plannedHomePosition": [home[0], home[1], 0], "items": items,
            },
            "geoFence": {"circles": [], "polygons": polygons, "version": 2},
            "rallyPoints": {"points": [], "version": 2},
        }  # fmt: skip

    # Internals --------------------------------------------------------------------------

    def _over_streets(
        self, stops: list[tuple[float, float]], speed: float, *, car: bool
    ) -> tuple[list[tuple[float, float]], float, float]:
        """A ground unit's way through its stops over the road graph: path, metres, seconds."""
        assert self.roads is not None
        path: list[tuple[float, float]] = [stops[0]]
        metres = seconds = 0.0
        for i, (a, b) in enumerate(itertools.pairwise(stops)):
            if a == b:
                continue
            leg = self.roads.route(a, b, pace_mps=speed, car=car)
            if leg is None:
                where = "home" if i == 0 else f"waypoint {i}"
                raise InvalidInputError(f"no street leads from {where} to the next stop")
            path.extend(p for p in leg.path[1:] if haversine_m(p, path[-1]) > 0.5)
            metres += leg.metres
            seconds += leg.seconds
        return path, metres, seconds

    def _check_waypoints(self, waypoints: list[list[float]], *, drone: bool) -> list[list[float]]:
        points = []
        for i, w in enumerate(waypoints, start=1):
            if len(w) not in (2, 3, 4):
                raise InvalidInputError(
                    f"waypoint {i}: [latitude, longitude(, altitude(, hold seconds))]"
                )
            lat, lon = float(w[0]), float(w[1])
            alt = float(w[2]) if len(w) >= 3 else (60.0 if drone else 0.0)
            hold = float(w[3]) if len(w) == 4 else 0.0
            if not (math.isfinite(hold) and 0 <= hold <= MAX_HOLD_S):
                raise InvalidInputError(f"waypoint {i}: the hold must be 0–{MAX_HOLD_S:.0f} s")
            if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                    and -180 <= lon <= 180):  # fmt: skip
                raise InvalidInputError(f"waypoint {i}: {lat}, {lon} is not a position")
            if drone and not (math.isfinite(alt) and 1 <= alt <= self.settings.max_alt_m):
                raise InvalidInputError(
                    f"waypoint {i}: altitude must be 1–{self.settings.max_alt_m:.0f} m above home"
                )
            points.append([lat, lon, alt if drone else 0.0, *([hold] if hold else [])])
        return points

    @staticmethod
    def _view(row: Mission, callsign: str, area: str | None) -> MissionView:
        return MissionView(
            id=row.id, callsign=callsign, name=row.name, waypoints=row.waypoints,
            speed_mps=row.speed_mps, patrol_area=area, length_m=row.length_m,
            duration_s=row.duration_s, status=row.status, created_by=row.created_by,
            created_at=row.created_at, uploaded_at=row.uploaded_at, path=row.path,
            reached_seq=row.reached_seq,
        )  # fmt: skip
