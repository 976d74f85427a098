"""Fleet API: the units (registered by operators), their last state, tracks and advisories;
geofences and missions (checked, exported as QGroundControl plans, uploaded over MAVLink)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, require
from kupol.core.auth import Permission, Principal
from kupol.fleet.service import UnitSpec

router = APIRouter(prefix="/api/fleet", tags=["fleet"])
Reader = Annotated[Principal, Depends(require(Permission.FLEET_READ))]
Manager = Annotated[Principal, Depends(require(Permission.FLEET_MANAGE))]


class UnitIn(BaseModel):
    """A unit to register."""

    model_config = ConfigDict(extra="forbid")

    callsign: str = Field(min_length=2, max_length=32, examples=["drone-1"])
    kind: Literal["drone", "robot_dog", "patrol_car", "foot_patrol"]
    capabilities: list[str] = Field(default_factory=list, max_length=10)
    endurance_min: int = Field(description="How long it works on one charge or shift.")
    max_speed_kmh: float
    home_lat: float
    home_lon: float
    crew: str | None = Field(None, max_length=200, description="Its crew or operator.")
    mavlink_sysid: int | None = Field(None, description="A drone's MAVLink system id.")
    camera_id: str | None = Field(
        None, max_length=64, description="Its camera in the camera registry (geo-tags events)."
    )


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["idle", "on_mission", "returning", "charging", "fault"]


@router.get("/units")
def list_units(container: ContainerDep, reader: Reader) -> list[dict[str, Any]]:
    """Every unit with its status, link, last position, battery and open advisories."""
    return [asdict(u) for u in container.fleet.fleet.units(actor=reader)]


@router.post("/units", status_code=201)
def register_unit(body: UnitIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """Register a unit (audited)."""
    spec = UnitSpec(**{**body.model_dump(), "capabilities": tuple(body.capabilities)})
    return asdict(container.fleet.fleet.register(actor=manager, spec=spec))


@router.get("/units/{callsign}")
def get_unit(callsign: str, container: ContainerDep, reader: Reader) -> dict[str, Any]:
    """One unit."""
    return asdict(container.fleet.fleet.unit(actor=reader, callsign=callsign))


@router.put("/units/{callsign}/status")
def set_status(
    callsign: str, body: StatusIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Set a unit's status by hand (audited)."""
    view = container.fleet.fleet.set_status(actor=manager, callsign=callsign, status=body.status)
    return asdict(view)


@router.get("/units/{callsign}/track")
def get_track(
    callsign: str,
    container: ContainerDep,
    reader: Reader,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: int = Query(2_000, ge=1, le=10_000),
) -> list[dict[str, object]]:
    """The unit's track, oldest first."""
    return container.fleet.fleet.track(
        actor=reader, callsign=callsign, since=since, until=until, limit=limit
    )


@router.get("/advisories")
def list_advisories(
    container: ContainerDep, reader: Reader, cleared: bool = False
) -> list[dict[str, Any]]:
    """Open advisories (``cleared=true``: the cleared ones too), newest first."""
    views = container.fleet.fleet.advisories(actor=reader, open_only=not cleared)
    return [asdict(a) for a in views]


class FenceIn(BaseModel):
    """A geofence."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    kind: Literal["no_fly", "patrol_area"]
    polygon: list[list[float]] = Field(
        min_length=3, max_length=500, description="[[latitude, longitude], …]"
    )


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


class MissionIn(BaseModel):
    """A mission to check and store."""

    model_config = ConfigDict(extra="forbid")

    callsign: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=120)
    waypoints: list[list[float]] = Field(
        min_length=1,
        max_length=500,
        description="[[latitude, longitude, altitude above home(, hold seconds)], …]",
    )
    speed_mps: float | None = Field(None, description="Default: 80 % of the unit's top speed.")
    patrol_area: str | None = Field(None, max_length=120)


class MissionStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["uploaded", "active", "done", "aborted"]


@router.get("/geofences")
def list_fences(container: ContainerDep, reader: Reader) -> list[dict[str, Any]]:
    """No-fly zones and patrol areas."""
    return [asdict(f) for f in container.fleet.missions.fence_views(actor=reader)]


@router.post("/geofences", status_code=201)
def add_fence(body: FenceIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """Add a no-fly zone or a patrol area (audited); no-fly zones are checked live at once."""
    view = container.fleet.missions.add_fence(
        actor=manager, name=body.name, kind=body.kind, polygon=body.polygon
    )
    return asdict(view)


@router.put("/geofences/{name}/active")
def set_fence_active(
    name: str, body: ActiveIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Switch a geofence on or off (audited)."""
    view = container.fleet.missions.set_fence_active(actor=manager, name=name, active=body.active)
    return asdict(view)


@router.post("/missions", status_code=201)
def plan_mission(body: MissionIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """Check a mission against the no-fly zones, its patrol area, the unit's speed and
    endurance, and store it (audited); a failed check says which and why (422)."""
    view = container.fleet.missions.plan(
        actor=manager, callsign=body.callsign, name=body.name, waypoints=body.waypoints,
        speed_mps=body.speed_mps, patrol_area=body.patrol_area,
    )  # fmt: skip
    return asdict(view)


@router.get("/missions")
def list_missions(
    container: ContainerDep, reader: Reader, callsign: str | None = None
) -> list[dict[str, Any]]:
    """Missions, newest first (or one unit's)."""
    return [asdict(m) for m in container.fleet.missions.missions(actor=reader, callsign=callsign)]


@router.get("/missions/{mission_id}")
def get_mission(mission_id: int, container: ContainerDep, reader: Reader) -> dict[str, Any]:
    return asdict(container.fleet.missions.mission(actor=reader, mission_id=mission_id))


@router.get("/missions/{mission_id}/plan")
def mission_plan(mission_id: int, container: ContainerDep, reader: Reader) -> Response:
    """The mission as a QGroundControl plan file (``.plan``)."""
    mission = container.fleet.missions.mission(actor=reader, mission_id=mission_id)
    unit = container.fleet.fleet.unit(actor=reader, callsign=mission.callsign)
    plan = container.fleet.missions.qgc_plan(mission, unit.home)
    return Response(
        json.dumps(plan, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="mission-{mission_id}.plan"'},
    )


@router.post("/missions/{mission_id}/upload")
async def upload_mission(
    mission_id: int, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Upload a drone's mission to its autopilot over the MAVLink mission protocol."""
    return asdict(await container.fleet.upload(actor=manager, mission_id=mission_id))


@router.put("/missions/{mission_id}/status")
def set_mission_status(
    mission_id: int, body: MissionStatusIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Move a mission on: active, done, aborted (audited)."""
    view = container.fleet.missions.set_status(
        mission_id=mission_id, status=body.status, actor=manager
    )
    return asdict(view)


class PlaceIn(BaseModel):
    """An incident, or a place."""

    model_config = ConfigDict(extra="forbid")

    incident_id: int | None = None
    lat: float | None = None
    lon: float | None = None


class DispatchIn(PlaceIn):
    callsign: str = Field(min_length=2, max_length=32)


class DispatchStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["arrived", "cancelled"]


@router.post("/dispatch/rank")
def rank_units(body: PlaceIn, container: ContainerDep, reader: Reader) -> list[dict[str, Any]]:
    """The available units for an incident or a place, quickest first, each with its route
    and how its time was reckoned (roads, air, estimate)."""
    found = container.fleet.dispatcher.rank(
        actor=reader, lat=body.lat, lon=body.lon, incident_id=body.incident_id
    )
    return [asdict(c) for c in found]


@router.post("/dispatches", status_code=201)
def send_unit(body: DispatchIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """Send a unit to an incident or a place (audited); its arrival is recorded from its
    telemetry."""
    view = container.fleet.dispatcher.send(
        actor=manager, callsign=body.callsign, lat=body.lat, lon=body.lon,
        incident_id=body.incident_id,
    )  # fmt: skip
    return asdict(view)


@router.get("/dispatches")
def list_dispatches(
    container: ContainerDep, reader: Reader, open: bool = False
) -> list[dict[str, Any]]:
    """Dispatches, newest first (``open=true``: those en route)."""
    return [asdict(d) for d in container.fleet.dispatcher.dispatches(actor=reader, open_only=open)]


@router.put("/dispatches/{dispatch_id}")
def close_dispatch(
    dispatch_id: int, body: DispatchStatusIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Record an arrival by hand, or call the unit back (audited)."""
    view = container.fleet.dispatcher.close(
        actor=manager, dispatch_id=dispatch_id, status=body.status
    )
    return asdict(view)


@router.get("/roads")
def road_segments(container: ContainerDep, reader: Reader) -> dict[str, Any]:
    """The road graph's segments for the map (``[lat, lon, lat, lon, footpath]`` each, one per
    street segment; ``footpath`` 1 for a path no vehicle takes), or none when no graph is
    configured."""
    roads = container.fleet.dispatcher.roads
    if roads is None:
        return {"segments": []}
    return {
        "segments": [
            [u[0], u[1], v[0], v[1], 0 if edge["vehicle"] else 1] for u, v, edge in roads.segments()
        ]
    }


class PatrolPlanIn(BaseModel):
    """Which units, for how long."""

    model_config = ConfigDict(extra="forbid")

    callsigns: list[str] = Field(min_length=1, max_length=50)
    shift_minutes: int = Field(ge=10, le=1440)
    seed: int | None = Field(None, ge=0, description="Repeat a plan (default: a new one).")
    candidates: int = Field(30, ge=2, le=200, description="The riskiest street segments.")
    days: int = Field(365, ge=1, le=3650, description="History the risk map counts.")


@router.post("/patrols/plan")
def plan_patrols(body: PatrolPlanIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """Routes for ground units over a shift past the riskiest streets (accidents and
    incidents), within their endurance, home again; different each shift (see docs/fleet.md)."""
    plan = container.fleet.patrols.plan(
        actor=manager, callsigns=body.callsigns, shift_minutes=body.shift_minutes,
        seed=body.seed, candidates=body.candidates, days=body.days,
    )  # fmt: skip
    return asdict(plan)
