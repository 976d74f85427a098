"""Fleet API: the units (registered by operators), their last state, tracks and advisories."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
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
