"""Road-safety API: accident imports (CSV through a mapping), statistics by region, time and
circumstance, region rankings and trends, and the official crime figures by region."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from kupol.api.deps import ContainerDep, CurrentUser
from kupol.core.auth import Permission
from kupol.core.errors import InvalidInputError
from kupol.roads.mapping import load_mapping
from kupol.roads.stats import DIMENSIONS, MEASURES, Filter

router = APIRouter(prefix="/api/roads", tags=["roads"])
MAX_CSV_BYTES = 256 * 2**20
MAX_XLSX_BYTES = 32 * 2**20


async def _read(file: UploadFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInputError(f"{file.filename} is larger than {limit // 2**20} MB")
    return data


@router.post("/imports", status_code=201)
async def import_accidents(
    container: ContainerDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="The accidents CSV.")],
    mapping: Annotated[str, Form(pattern=r"^[a-z0-9_-]{1,64}$", description="A shipped mapping.")],
    related: Annotated[
        list[UploadFile] | None,
        File(description="Files the mapping counts from (e.g. casualty.csv), named as it says."),
    ] = None,
) -> dict[str, Any]:
    """Import accident records: every row is imported, already known, or rejected with its
    line and reason (``rejects``)."""
    user.require(Permission.ROADS_IMPORT)
    chosen = load_mapping(mapping)
    data = await _read(file, MAX_CSV_BYTES)
    names = {rule.file_replace[1] for rule in chosen.counts}
    extra: dict[str, bytes] = {}
    for upload in related or []:
        role = next((n for n in names if n in (upload.filename or "")), None)
        if role is None:
            raise InvalidInputError(
                f"{upload.filename}: the mapping needs files named with {', '.join(sorted(names))}"
            )
        extra[role] = await _read(upload, MAX_CSV_BYTES)
    summary = await asyncio.to_thread(
        container.roads.registry.import_file,
        data=data,
        file_name=file.filename or "upload.csv",
        mapping=chosen,
        actor=user,
        related=extra,
    )
    return asdict(summary)


@router.get("/imports")
def imports(container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The latest imports (without their rejects)."""
    return [{**asdict(s), "rejects": None} for s in container.roads.registry.imports(actor=user)]


@router.get("/imports/{import_id}")
def one_import(import_id: int, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """One import with every rejected row's line and reason."""
    return asdict(container.roads.registry.get_import(import_id=import_id, actor=user))


def _filter(
    source: str | None,
    region: str | None,
    since: date | None,
    until: date | None,
    severity: list[str] | None,
) -> Filter:
    return Filter(
        source=source,
        region_code=region,
        since=since,
        until=until,
        severities=tuple(severity or ()),
    )


Source = Annotated[str | None, Query(max_length=40)]
Region = Annotated[str | None, Query(pattern=r"^\d{2}$", description="Region code 01–20.")]
Severity = Annotated[list[str] | None, Query(description="Only these severities (repeat).")]


@router.get("/stats")
def breakdown(
    container: ContainerDep,
    user: CurrentUser,
    by: Annotated[str, Query(description=f"One of {', '.join(DIMENSIONS)}.")],
    measure: Annotated[str, Query(description=f"One of {', '.join(MEASURES)}.")] = "accidents",
    source: Source = None,
    region: Region = None,
    since: date | None = None,
    until: date | None = None,
    severity: Severity = None,
) -> dict[str, Any]:
    """Counts (with 95 % intervals) by one dimension; by region also rates per 100,000 people
    per year."""
    where = _filter(source, region, since, until, severity)
    return asdict(
        container.roads.statistics.breakdown(actor=user, by=by, measure=measure, where=where)
    )


@router.get("/ranking")
def ranking(
    container: ContainerDep,
    user: CurrentUser,
    measure: str = "killed",
    source: Source = None,
    since: date | None = None,
    until: date | None = None,
    severity: Severity = None,
) -> dict[str, Any]:
    """Regions ranked by a measure per 100,000 people per year; the statement says how."""
    where = _filter(source, None, since, until, severity)
    return asdict(container.roads.statistics.ranking(actor=user, measure=measure, where=where))


@router.get("/trend")
def trend(
    container: ContainerDep,
    user: CurrentUser,
    measure: str = "accidents",
    source: Source = None,
    region: Region = None,
    severity: Severity = None,
) -> dict[str, Any]:
    """Counts by whole year and the change per year with its 95 % interval."""
    where = _filter(source, region, None, None, severity)
    return asdict(container.roads.statistics.trend(actor=user, measure=measure, where=where))


@router.get("/regions")
def regions(container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The regions and cities with their latest population figure and its source."""
    user.require(Permission.ROADS_READ)
    table = container.roads.regions
    found = []
    for region in table.regions():
        figure = table.population_of(region.code, date.today())
        found.append(
            {
                **asdict(region),
                "population": figure[0] if figure else None,
                "population_since": figure[1].since.isoformat() if figure else None,
                "population_source": figure[1].source if figure else None,
            }
        )
    return found


@router.post("/crime", status_code=201)
async def import_crime(
    container: ContainerDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="A form 1-M workbook (XLSX) of one region.")],
    region: Annotated[str, Form(max_length=80, description="Region code or name.")],
    period: Annotated[str, Form(max_length=10, description="2023, 2023-06, 2023-H1, 2023-Q2")],
) -> dict[str, Any]:
    """Import one region's official crime report for a period (replacing an earlier one)."""
    user.require(Permission.ROADS_IMPORT)
    data = await _read(file, MAX_XLSX_BYTES)
    lines = await asyncio.to_thread(
        container.roads.crime.import_report,
        data=data,
        file_name=file.filename or "report.xlsx",
        region=region,
        period=period,
        actor=user,
    )
    return {"region": container.roads.regions.code_for(region), "period": period, "lines": lines}


@router.get("/crime")
def crime(
    container: ContainerDep,
    user: CurrentUser,
    period: Annotated[str, Query(max_length=10)],
    article: Annotated[str | None, Query(pattern=r"^\d{1,3}(-\d{1,2})?$")] = None,
    chapter: Annotated[int | None, Query(ge=1, le=20)] = None,
    line: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> list[dict[str, Any]]:
    """An article's, chapter's or report line's registered offences by region, per 100,000."""
    return [
        asdict(f)
        for f in container.roads.crime.by_region(
            actor=user, period=period, article=article, chapter=chapter, line=line
        )
    ]
