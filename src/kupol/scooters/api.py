"""E-scooter API: operators, their scooters and the city's zones (traffic officers and
administrators); operators' MDS trip and GBFS availability feeds (their own accounts); the
violations found and an operator's compliance report for a day."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, require
from kupol.core.auth import Permission, Principal

router = APIRouter(prefix="/api/scooters", tags=["scooters"])
Reader = Annotated[Principal, Depends(require(Permission.SCOOTERS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.SCOOTERS_MANAGE))]
Feeder = Annotated[Principal, Depends(require(Permission.SCOOTER_FEEDS))]
Document = Annotated[
    dict[str, Any], Body(description="The feed document, as the operator serves it.")
]


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_id: str = Field(min_length=8, max_length=64, description="Its MDS provider id.")
    name: str = Field(min_length=1, max_length=200)
    letter: str = Field(min_length=1, max_length=1, description="Its scooters' number letter.")
    bin: str = Field(min_length=12, max_length=12)
    fleet_cap: int = Field(ge=1, le=100_000)
    account: str | None = Field(None, max_length=64, description="Its system's kupol account.")


@router.get("/operators")
def operators(container: ContainerDep, reader: Reader) -> list[dict[str, Any]]:
    return [asdict(o) for o in container.scooters.operators(actor=reader)]


@router.post("/operators", status_code=201)
def register_operator(
    body: OperatorIn, container: ContainerDep, manager: Manager
) -> dict[str, Any]:
    return asdict(container.scooters.register_operator(actor=manager, **body.model_dump()))


class ScooterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: str = Field(min_length=2, max_length=10, examples=["W12345"])
    device_id: str = Field(min_length=1, max_length=64)
    insurer: str | None = Field(None, max_length=120)
    policy_no: str | None = Field(None, max_length=60)
    insured_until: date | None = None


class ScootersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scooters: list[ScooterIn] = Field(min_length=1, max_length=20_000)


@router.post("/operators/{provider_id}/scooters", status_code=201)
def register_scooters(
    provider_id: str, body: ScootersIn, container: ContainerDep, manager: Manager
) -> dict[str, int]:
    items = [s.model_dump(mode="json") for s in body.scooters]
    count = container.scooters.register_scooters(actor=manager, provider_id=provider_id,
                                                 scooters=items)  # fmt: skip
    return {"registered": count}


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    kind: Literal["slow", "no_ride", "no_parking"]
    polygon: list[list[float]] = Field(min_length=3, max_length=1000)
    max_speed_kmh: float | None = Field(None, gt=0, le=60)
    sidewalk: bool = False


@router.get("/zones")
def zones(container: ContainerDep, reader: Reader) -> list[dict[str, Any]]:
    return container.scooters.zones(actor=reader)


@router.post("/zones", status_code=201)
def add_zone(body: ZoneIn, container: ContainerDep, manager: Manager) -> dict[str, str]:
    container.scooters.add_zone(actor=manager, **body.model_dump())
    return {"name": body.name}


@router.post("/feeds/mds/trips")
def mds_trips(document: Document, container: ContainerDep, feeder: Feeder) -> dict[str, Any]:
    """An operator's MDS trips (2.0; routes, plates and riders as agreed — docs/registries.md):
    the valid trips stored and checked, each refused record answered with where and why."""
    return asdict(container.scooters.submit_trips(actor=feeder, document=document))


@router.post("/feeds/gbfs/vehicle_status")
def gbfs_vehicles(document: Document, container: ContainerDep, feeder: Feeder) -> dict[str, Any]:
    """An operator's GBFS vehicle list (2.x free_bike_status or 3.0 vehicle_status): counted
    as its fleet on the street then."""
    return asdict(container.scooters.submit_gbfs(actor=feeder, document=document))


class ResponsesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responses: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=10_000,
        description="[{trip_id, kind, acted_at (ISO 8601 with offset), action}, …]",
    )


@router.post("/feeds/responses")
def responses(body: ResponsesIn, container: ContainerDep, feeder: Feeder) -> dict[str, Any]:
    """What the operator did about its renters' violations, for its response times."""
    return asdict(container.scooters.submit_responses(actor=feeder, responses=body.responses))


@router.get("/operators/{provider_id}/compliance")
def compliance(
    provider_id: str, container: ContainerDep, reader: Reader, day: Annotated[date, Query()]
) -> dict[str, Any]:
    """The operator's day: trips, violations per 1,000 trips by kind, fleet against the cap,
    the fines due."""
    report = container.scooters.compliance(actor=reader, provider_id=provider_id, day=day)
    out = asdict(report)
    out["violations"] = {k.value: n for k, n in report.violations.items()}
    out["per_1000_trips"] = {k.value: n for k, n in report.per_1000_trips.items()}
    return out


@router.get("/violations")
def violations(
    container: ContainerDep,
    reader: Reader,
    provider_id: Annotated[str | None, Query(max_length=64)] = None,
    plate: Annotated[str | None, Query(max_length=10)] = None,
    day: Annotated[date | None, Query()] = None,
    rider_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, object]]:
    """Violations found on trips, newest first — by operator, scooter, day or rider (audited:
    they name riders)."""
    return container.scooters.violations(actor=reader, provider_id=provider_id, plate=plate,
                                         day=day, rider_id=rider_id)  # fmt: skip


@router.get("/{plate}")
def scooter(plate: str, container: ContainerDep, reader: Reader) -> dict[str, object]:
    """One scooter: registration, insurance, trips, the violations on its trips and those
    traffic cameras recorded against its number."""
    return container.scooters.scooter(actor=reader, plate=plate)
