"""Incidents API: record one (by hand or from an alert), list, read with its linked evidence
and nearby alerts, link or unlink evidence, close."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser
from kupol.incidents.service import IncidentInput

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


class NewIncident(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=30)
    title: str = Field(max_length=300)
    description: str | None = Field(None, max_length=4000)
    occurred_from: AwareDatetime
    occurred_to: AwareDatetime
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: float = Field(300.0, ge=10, le=5000)
    case_number: str | None = Field(None, max_length=64)


class FromAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_id: int
    kind: str = Field("other", max_length=30)
    title: str = Field(max_length=300)
    minutes: float = Field(5.0, ge=0, le=120)
    radius_m: float = Field(300.0, ge=10, le=5000)


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: int


@router.get("")
def list_incidents(
    container: ContainerDep,
    user: CurrentUser,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Incidents, latest first."""
    return [asdict(i) for i in container.incidents.incidents(actor=user, status=status)]


@router.post("", status_code=201)
def create(body: NewIncident, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Record an incident; clips whose device came within its radius then are linked."""
    return asdict(container.incidents.create(IncidentInput(**body.model_dump()), actor=user))


@router.post("/from-alert", status_code=201)
def from_alert(body: FromAlert, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Record an incident at an alert's camera, around its time."""
    return asdict(container.incidents.from_alert(**body.model_dump(), actor=user))


@router.get("/{incident_id}")
def get(incident_id: int, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """An incident with its evidence and the alerts raised near it then."""
    return asdict(container.incidents.get(incident_id=incident_id, actor=user))


@router.post("/{incident_id}/evidence")
def link(
    incident_id: int, body: Link, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Link an evidence item by hand."""
    return asdict(
        container.incidents.link(incident_id=incident_id, item_id=body.item_id, actor=user)
    )


@router.delete("/{incident_id}/evidence/{item_id}")
def unlink(
    incident_id: int, item_id: int, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Unlink an evidence item."""
    return asdict(
        container.incidents.link(incident_id=incident_id, item_id=item_id, actor=user, on=False)
    )


@router.post("/{incident_id}/close")
def close(incident_id: int, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Close an incident (new clips are no longer linked to it automatically)."""
    return asdict(container.incidents.close(incident_id=incident_id, actor=user))
