"""Driving-school API: the registry's import, the ranking with its evidence, anomaly checks and
flags, inspections; and the public ratings (schools only, no person named)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kupol.api.deps import ContainerDep, require
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError
from kupol.core.messages import kazakhstan_today
from kupol.schools.model import Snapshot

router = APIRouter(prefix="/api/schools", tags=["schools"])
public_router = APIRouter(prefix="/api/public", tags=["public"])
Reader = Annotated[Principal, Depends(require(Permission.SCHOOLS_READ))]
Inspector = Annotated[Principal, Depends(require(Permission.SCHOOLS_INSPECT))]
_SNAPSHOT = TypeAdapter(Snapshot)


@router.post("/import")
def import_registry(
    container: ContainerDep,
    inspector: Inspector,
    bundle: Annotated[dict[str, Any], Body(description="A registry snapshot (docs/registries.md)")],
) -> dict[str, Any]:
    """Store the registry's records (schools, branches, instructors, vehicles, examiners,
    cadets, lessons, exam attempts, graduates, complaints); same ids replace."""
    try:
        snapshot = _SNAPSHOT.validate_python({"as_of": kazakhstan_today().isoformat(), **bundle})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(
            f"{where}: {first['msg']} ({exc.error_count()} error(s) in all)"
        ) from exc
    return asdict(container.schools.import_snapshot(actor=inspector, snapshot=snapshot))


@router.get("/ranking")
def ranking(
    container: ContainerDep, reader: Reader, region: Annotated[str | None, Query()] = None
) -> list[dict[str, Any]]:
    """Every school's quality score with its components (events, n, interval, shrunk
    estimate, weight): ranked ones by rank, then those with too little data."""
    return [asdict(r) for r in container.schools.ranking(actor=reader, region=region)]


@router.get("/regions")
def regions(container: ContainerDep, reader: Reader) -> list[str]:
    return container.schools.regions()


@router.get("/flags")
def flags(
    container: ContainerDep,
    reader: Reader,
    school_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[Literal["open", "inspected", "dismissed"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Stored anomaly flags, most severe first (audited)."""
    views = container.schools.flags(actor=reader, school_id=school_id, status=status)
    return [asdict(f) for f in views]


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(None, max_length=60)


@router.post("/checks")
def run_checks(body: CheckIn, container: ContainerDep, inspector: Inspector) -> dict[str, Any]:
    """Run the anomaly checks over the stored records and keep what they find."""
    return asdict(container.schools.check(actor=inspector, region=body.region))


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspected_on: date
    findings: str = Field(min_length=1, max_length=10_000)
    sanction: Literal["none", "warning", "fine", "suspension", "revocation"]
    fine_tenge: int | None = Field(None, gt=0)
    flag_ids: list[int] = Field(default_factory=list, max_length=500)


@router.post("/{school_id}/inspections", status_code=201)
def inspect(
    school_id: str, body: InspectionIn, container: ContainerDep, inspector: Inspector
) -> dict[str, Any]:
    """Record an inspection; the flags it took up are closed as inspected."""
    view = container.schools.inspect(
        actor=inspector, school_id=school_id, inspected_on=body.inspected_on,
        findings=body.findings, sanction=body.sanction, fine_tenge=body.fine_tenge,
        flag_ids=body.flag_ids,
    )  # fmt: skip
    return asdict(view)


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


@router.post("/flags/{flag_id}/dismiss")
def dismiss(
    flag_id: int, body: DismissIn, container: ContainerDep, inspector: Inspector
) -> dict[str, Any]:
    return asdict(container.schools.dismiss(actor=inspector, flag_id=flag_id, reason=body.reason))


@router.get("/{school_id}")
def school(school_id: str, container: ContainerDep, reader: Reader) -> dict[str, Any]:
    """One school: its record, score and evidence, flags (audited) and inspections."""
    return container.schools.school(actor=reader, school_id=school_id)


@public_router.get("/school-ratings")
def public_ratings(
    container: ContainerDep, region: Annotated[str | None, Query(max_length=60)] = None
) -> list[dict[str, Any]]:
    """The driving schools' ratings for everyone: schools only, no person named (no login)."""
    return [asdict(r) for r in container.schools.public_ratings(region)]
