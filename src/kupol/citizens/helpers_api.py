"""The public-order helpers' API: a citizen applies, takes shifts and checks in and out from
the portal (``/api/citizen/helper``); the situation centre registers areas, decides on
helpers, plans and marks shifts, reads activity and awards recognition (``/api/helpers``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, Why, require
from kupol.core.auth import Permission, Principal

router = APIRouter(prefix="/api/citizen/helper", tags=["public-order helpers"])
staff_router = APIRouter(prefix="/api/helpers", tags=["public-order helpers"])
Citizen = Annotated[Principal, Depends(require(Permission.CITIZEN_REPORT))]
Manager = Annotated[Principal, Depends(require(Permission.HELPERS_MANAGE))]


class ApplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=5, max_length=200)
    motivation: str = Field("", max_length=2000)
    home_area_id: int | None = None


class ShiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_id: int
    start: AwareDatetime
    end: AwareDatetime


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


@router.get("")
def me(container: ContainerDep, citizen: Citizen) -> dict[str, Any] | None:
    """One's standing as a helper (null: never applied), shifts and recognition."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.helpers.me(actor=citizen, citizen_id=citizen_id)
    return asdict(view) if view else None


@router.post("", status_code=201)
def apply(body: ApplyIn, container: ContainerDep, citizen: Citizen) -> dict[str, Any]:
    """Apply to patrol as a public-order helper."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.helpers.apply(
        actor=citizen, citizen_id=citizen_id, full_name=body.full_name,
        motivation=body.motivation, home_area_id=body.home_area_id,
    )  # fmt: skip
    return asdict(view)


@router.get("/areas")
def areas_for_citizens(container: ContainerDep, citizen: Citizen) -> list[dict[str, Any]]:
    """The patrol areas."""
    return [asdict(a) for a in container.citizens.helpers.areas(actor=citizen)]


@router.post("/shifts", status_code=201)
def take_shift(body: ShiftIn, container: ContainerDep, citizen: Citizen) -> dict[str, Any]:
    """Take a shift (an active helper; the shift rules apply)."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.helpers.plan_shift(actor=citizen, citizen_id=citizen_id,
                                                 area_id=body.area_id, start=body.start,
                                                 end=body.end)  # fmt: skip
    return asdict(view)


@router.post("/shifts/{shift_id}/{way}")
def check(
    shift_id: int, way: Literal["check-in", "check-out"], body: PlaceIn,
    container: ContainerDep, citizen: Citizen,
) -> dict[str, Any]:  # fmt: skip
    """Check in or out of a shift, on the spot (the phone's location)."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.helpers.check(
        actor=citizen, citizen_id=citizen_id, shift_id=shift_id, way=way.removeprefix("check-"),
        lat=body.lat, lon=body.lon,
    )  # fmt: skip
    return asdict(view)


@router.delete("/shifts/{shift_id}")
def cancel(shift_id: int, container: ContainerDep, citizen: Citizen) -> dict[str, Any]:
    """Cancel a shift that has not begun."""
    citizen_id = container.citizens.accounts.citizen_id(citizen.user_id)
    view = container.citizens.helpers.cancel_own(actor=citizen, citizen_id=citizen_id,
                                                 shift_id=shift_id)  # fmt: skip
    return asdict(view)


class AreaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=120)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(ge=50, le=20_000)
    description: str = Field("", max_length=2000)


@staff_router.get("/areas")
def areas(container: ContainerDep, manager: Manager) -> list[dict[str, Any]]:
    return [asdict(a) for a in container.citizens.helpers.areas(actor=manager)]


@staff_router.post("/areas", status_code=201)
def add_area(body: AreaIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """A patrol area (a circle; its region is found from its centre)."""
    view = container.citizens.helpers.add_area(actor=manager, **body.model_dump())
    return asdict(view)


@staff_router.get("")
def helpers(
    container: ContainerDep, manager: Manager, why: Why, status: str | None = None
) -> list[dict[str, Any]]:
    """The helpers (names, masked phones), audited with the purpose."""
    found = container.citizens.helpers.helpers(actor=manager, why=why, status=status)
    return [asdict(h) for h in found]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "decline", "suspend", "reinstate"]
    note: str = Field("", max_length=2000)


@staff_router.post("/{helper_id}/decision")
def decide(
    helper_id: int, body: DecisionIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Approve, decline, suspend (future shifts cancelled) or reinstate a helper."""
    view = container.citizens.helpers.decide(actor=manager, helper_id=helper_id,
                                             decision=body.decision, note=body.note)  # fmt: skip
    return asdict(view)


@staff_router.post("/{helper_id}/shifts", status_code=201)
def plan(
    helper_id: int, body: ShiftIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    """Plan a helper's shift (the shift rules apply)."""
    view = container.citizens.helpers.plan_shift(actor=manager, helper_id=helper_id,
                                                 area_id=body.area_id, start=body.start,
                                                 end=body.end)  # fmt: skip
    return asdict(view)


@staff_router.get("/shifts")
def shifts(
    container: ContainerDep, manager: Manager, why: Why, start: AwareDatetime,
    end: AwareDatetime, area_id: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Shifts in a window of up to 31 days, with the helpers' names (audited)."""
    found = container.citizens.helpers.shifts(actor=manager, why=why, start=start, end=end,
                                              area_id=area_id)  # fmt: skip
    return [asdict(s) for s in found]


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["attended", "no_show", "cancelled"]
    note: str = Field("", max_length=2000)


@staff_router.post("/shifts/{shift_id}/mark")
def mark(shift_id: int, body: MarkIn, container: ContainerDep, manager: Manager) -> dict[str, Any]:
    """The situation centre's word on a shift."""
    view = container.citizens.helpers.mark(actor=manager, shift_id=shift_id,
                                           status=body.status, note=body.note)  # fmt: skip
    return asdict(view)


@staff_router.get("/activity")
def activity(
    container: ContainerDep, manager: Manager, why: Why, month: date
) -> list[dict[str, Any]]:
    """Each helper's shifts, hours, reliability and confirmed reports in ``month`` (any day
    of it)."""
    rows = container.citizens.helpers.activity(actor=manager, why=why, month=month)
    return [asdict(r) for r in rows]


class RecogniseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date


@staff_router.post("/recognitions")
def recognise(body: RecogniseIn, container: ContainerDep, manager: Manager) -> list[dict[str, Any]]:
    """Award what the quarters and years over by ``on`` earned (each level once)."""
    return [asdict(r) for r in container.citizens.helpers.recognise(actor=manager, on=body.on)]
