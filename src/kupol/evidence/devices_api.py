"""Device registry API: body cameras and other recorders, and the shifts they are out on."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser

router = APIRouter(prefix="/api/devices", tags=["evidence"])


class NewDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=64)
    kind: Literal["bodycam", "dashcam", "drone", "other"] = "bodycam"
    serial: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=100)


class NewShift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer: str = Field(max_length=64)
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None


class EndShift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ends_at: AwareDatetime | None = None


@router.get("")
def devices(container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Registered devices and who holds each now."""
    return [asdict(d) for d in container.devices.devices(actor=user)]


@router.post("", status_code=201)
def register(body: NewDevice, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Register a device (evidence.devices: administrators, duty operators)."""
    return asdict(
        container.devices.register(
            device_id=body.id, kind=body.kind, serial=body.serial, model=body.model, actor=user
        )
    )


@router.get("/{device_id}/shifts")
def shifts(device_id: str, container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """A device's shifts, latest first."""
    return [asdict(s) for s in container.devices.shifts(device_id=device_id, actor=user)]


@router.post("/{device_id}/shifts", status_code=201)
def assign(
    device_id: str, body: NewShift, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Hand a device to an officer for a shift."""
    return asdict(
        container.devices.assign(
            device_id=device_id,
            officer=body.officer,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            actor=user,
        )
    )


@router.post("/shifts/{shift_id}/end")
def end_shift(
    shift_id: int, body: EndShift, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """The device came back: end its shift."""
    return asdict(container.devices.end_shift(shift_id=shift_id, ends_at=body.ends_at, actor=user))
