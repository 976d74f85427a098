"""Road-safety API: accident imports (CSV through a mapping), statistics by region, time and
circumstance, region rankings and trends, and the official crime figures by region."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi import Path as FastapiPath
from pydantic import BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser
from kupol.core.auth import Permission
from kupol.core.errors import ConfigError, InvalidInputError
from kupol.roads.analyses import Site
from kupol.roads.crime_store import PERIOD
from kupol.roads.hotspots import cell_boundary
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
    try:
        chosen = load_mapping(mapping)
    except ConfigError as exc:
        raise InvalidInputError(str(exc)) from None
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


Source = Annotated[str | None, Query(max_length=40)]
Region = Annotated[str | None, Query(pattern=r"^\d{2}$", description="Region code 01–20.")]
Severity = Annotated[list[str] | None, Query(description="Only these severities (repeat).")]


def _where(
    source: Source = None,
    region: Region = None,
    since: date | None = None,
    until: date | None = None,
    severity: Severity = None,
) -> Filter:
    """The accidents a request asks about: its source, region, window and severities."""
    return Filter(
        source=source,
        region_code=region,
        since=since,
        until=until,
        severities=tuple(severity or ()),
    )


Where = Annotated[Filter, Depends(_where)]


@router.get("/stats")
def breakdown(
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    by: Annotated[str, Query(description=f"One of {', '.join(DIMENSIONS)}.")],
    measure: Annotated[str, Query(description=f"One of {', '.join(MEASURES)}.")] = "accidents",
) -> dict[str, Any]:
    """Counts (with 95 % intervals) by one dimension; by region also rates per 100,000 people
    per year."""
    return asdict(
        container.roads.statistics.breakdown(actor=user, by=by, measure=measure, where=where)
    )


@router.get("/ranking")
def ranking(
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    measure: str = "killed",
    per: Annotated[str, Query(pattern="^(people|vehicles)$")] = "people",
) -> dict[str, Any]:
    """Regions ranked by a measure per 100,000 people or per 10,000 registered vehicles per
    year; the statement says how."""
    return asdict(
        container.roads.statistics.ranking(actor=user, measure=measure, where=where, per=per)
    )


@router.get("/trend")
def trend(
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    measure: str = "accidents",
) -> dict[str, Any]:
    """Counts by whole year and the change per year with its 95 % interval."""
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
    period: Annotated[str, Form(pattern=PERIOD, description="2023, 2023-06, 2023-H1, 2023-Q2")],
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
    period: Annotated[str, Query(pattern=PERIOD)],
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


@router.get("/hotspots")
def hotspots(
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    resolution: Annotated[int, Query(ge=5, le=12)] = 9,
    ring: Annotated[int, Query(ge=1, le=3)] = 1,
    alpha: Annotated[float, Query(gt=0, lt=0.5)] = 0.05,
) -> dict[str, Any]:
    """Hot areas (Getis-Ord Gi*, severity-weighted, FDR-corrected) with their cells'
    outlines and accidents."""
    result = container.roads.analyses.hotspots(
        actor=user,
        where=where,
        resolution=resolution,
        ring=ring,
        alpha=alpha,
    )
    body = asdict(result)
    for spot in body["hotspots"]:
        spot["outlines"] = [cell_boundary(c) for c in spot["cells"]]
    return body


@router.get("/hotspots/roads")
def road_hotspots(
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    segment_m: Annotated[float, Query(ge=100, le=5000)] = 500.0,
    alpha: Annotated[float, Query(gt=0, lt=0.5)] = 0.05,
) -> dict[str, Any]:
    """Hot stretches along named roads (Gi* on segments along each road's line)."""
    result = container.roads.analyses.road_hotspots(
        actor=user,
        where=where,
        segment_m=segment_m,
        alpha=alpha,
    )
    return asdict(result)


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str = Field("", max_length=100)
    predicted_before: float | None = Field(
        None, gt=0, description="A safety performance function's accidents before (treated)."
    )
    predicted_after: float | None = Field(None, gt=0, description="…and after.")


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    treated: list[SiteIn] = Field(min_length=1, max_length=500)
    comparison: list[SiteIn] = Field(default_factory=list, max_length=5000)
    installed_on: date
    radius_m: float = Field(100.0, ge=10, le=2000)
    years: int = Field(3, ge=1, le=10)
    gap_months: int = Field(3, ge=0, le=12)
    kinds: list[str] = Field(default_factory=list, max_length=8)
    source: str | None = Field(None, max_length=40)
    overdispersion: float | None = Field(
        None, ge=0, le=100, description="The SPF's negative binomial k (with predictions)."
    )


@router.post("/evaluations")
def evaluate_measure(
    body: EvaluationIn, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Before/after evaluation of a measure at its sites: naive, comparison group and
    Empirical Bayes, each with a 95 % interval and a verdict in words."""
    result = container.roads.analyses.evaluate(
        actor=user,
        treated=[Site(**s.model_dump()) for s in body.treated],
        comparison=[Site(**s.model_dump()) for s in body.comparison],
        installed_on=body.installed_on,
        radius_m=body.radius_m,
        years=body.years,
        gap_months=body.gap_months,
        kinds=body.kinds,
        source=body.source,
        overdispersion=body.overdispersion,
    )
    return asdict(result)


@router.get("/advice")
def advice(
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    measure: Annotated[str, Query(max_length=30)],
    places: Annotated[int, Query(ge=1, le=200)] = 20,
    resolution: Annotated[int, Query(ge=6, le=11)] = 9,
) -> dict[str, Any]:
    """Where the next camera, crosswalk, speed bump, patrol or drone route would avert the
    most severity-weighted accidents a year — a list the fleet planner reads."""
    result = container.roads.analyses.advice(
        actor=user,
        measure=measure,
        where=where,
        resolution=resolution,
        places=places,
    )
    return asdict(result)


@router.get(
    "/report.{fmt}",
    response_class=Response,
    responses={
        200: {"description": "The report.", "content": {"text/html": {}, "application/pdf": {}}}
    },
)
def report(
    fmt: Annotated[str, FastapiPath(pattern="^(html|pdf)$")],
    container: ContainerDep,
    user: CurrentUser,
    where: Where,
    crime_period: Annotated[str | None, Query(pattern=PERIOD)] = None,
    title: Annotated[str, Query(max_length=200)] = "Road safety report",
) -> Response:
    """A region or city report (HTML with embedded charts, or PDF)."""
    from kupol.roads.report import build_report, to_html, to_pdf

    built = build_report(
        container.roads,
        actor=user,
        where=where,
        title=title,
        crime_period=crime_period,
    )
    if fmt == "pdf":
        return Response(
            to_pdf(built),
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="road-safety-report.pdf"'},
        )
    return Response(to_html(built), media_type="text/html; charset=utf-8")


@router.get("/accidents")
def accidents(
    container: ContainerDep,
    user: CurrentUser,
    ids: Annotated[str | None, Query(pattern=r"^\d+(,\d+){0,499}$")] = None,
    source: Source = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Accidents by id (``ids=1,2,3``: a hot area's list) or the latest, newest first."""
    wanted = [int(i) for i in ids.split(",")] if ids else None
    return [
        asdict(a)
        for a in container.roads.registry.accidents(
            actor=user, ids=wanted, source=source, limit=limit
        )
    ]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(violation|evidence|incident)$")
    id: str = Field(pattern=r"^\d{1,18}$", description="The record's number.")


@router.post("/accidents/{accident_id}/links")
def link(
    accident_id: int, body: LinkIn, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Link a traffic violation, an evidence item or an incident to an accident (audited;
    only who may see that kind of record links it)."""
    links = container.roads.links.link(
        accident_id=accident_id, kind=body.kind, target=body.id, actor=user
    )
    return {"id": accident_id, "links": links}


@router.get("/accidents/{accident_id}/candidates")
def link_candidates(
    accident_id: int,
    container: ContainerDep,
    user: CurrentUser,
    radius_m: Annotated[float, Query(ge=10, le=5000)] = 300.0,
    minutes: Annotated[int, Query(ge=1, le=1440)] = 60,
) -> list[dict[str, Any]]:
    """Violations, incidents and clips near the accident around its time (the kinds the
    caller may see), nearest first — suggestions to link."""
    return [
        asdict(c)
        for c in container.roads.links.candidates(
            accident_id=accident_id, actor=user, radius_m=radius_m, minutes=minutes
        )
    ]


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: str = Field(pattern="^(camera|smart_crosswalk|speed_bump|patrol|drone|other)$")
    name: str = Field(min_length=1, max_length=200)
    installed_on: date
    sites: list[SiteIn] = Field(min_length=1, max_length=500)
    comparison: list[SiteIn] = Field(default_factory=list, max_length=5000)
    radius_m: float = Field(100.0, ge=10, le=2000)
    source: str | None = Field(None, max_length=40)


@router.post("/measures", status_code=201)
def keep_measure(body: MeasureIn, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Keep a measure with its sites (and comparison sites) to evaluate it again later."""
    return asdict(
        container.roads.measures.save_measure(
            actor=user,
            kind=body.kind,
            name=body.name,
            installed_on=body.installed_on,
            sites=[Site(**s.model_dump()) for s in body.sites],
            comparison=[Site(**s.model_dump()) for s in body.comparison],
            radius_m=body.radius_m,
            source=body.source,
        )
    )


@router.get("/measures")
def measures(container: ContainerDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The measures kept, newest first."""
    return [asdict(m) for m in container.roads.measures.measures_saved(actor=user)]


@router.get("/measures/{measure_id}/evaluation")
def measure_evaluation(
    measure_id: int,
    container: ContainerDep,
    user: CurrentUser,
    years: Annotated[int, Query(ge=1, le=10)] = 3,
    gap_months: Annotated[int, Query(ge=0, le=12)] = 3,
) -> dict[str, Any]:
    """A kept measure evaluated on the records as they are now."""
    return asdict(
        container.roads.measures.evaluate_saved(
            actor=user, measure_id=measure_id, years=years, gap_months=gap_months
        )
    )
