"""Plates API: sightings search and a vehicle's route, audited with the stated purpose, and the
route exported to the evidence vault; hotlists and their entries (reading the listed plates is
audited too)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kupol.api.deps import ContainerDep, CurrentUser, Why, require
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError
from kupol.plates.hotlists import MAX_ENTRIES_PAGE
from kupol.plates.queries import MAX_LIMIT, Match, PlateFilter, VehicleClass, VehicleColour

router = APIRouter(prefix="/api/plates", tags=["plates"])
Searcher = Annotated[Principal, Depends(require(Permission.PLATES_SEARCH))]
MAX_CSV_BYTES = 50 * 1024 * 1024


@router.get("/sightings")
def search_sightings(
    container: ContainerDep,
    user: Searcher,
    why: Why,
    plate: str | None = Query(None, max_length=20, description="Plate, or a ?/* pattern."),
    match: Match = Query(Match.EXACT, description="exact, wildcard or fuzzy (one character)"),
    camera_id: str | None = Query(None, max_length=64),
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    vehicle_class: VehicleClass | None = Query(None, description="As the detector named it."),
    vehicle_colour: VehicleColour | None = Query(None, description="The vehicle's colour."),
) -> list[dict[str, Any]]:
    """Plate sightings, newest first (audited)."""
    found = container.plates.search(
        filters=PlateFilter(
            plate=plate,
            match=match,
            camera_id=camera_id,
            since=since,
            until=until,
            limit=limit,
            vehicle_class=vehicle_class,
            vehicle_colour=vehicle_colour,
        ),
        actor=user,
        why=why,
    )
    return [asdict(s) for s in found]


@router.get("/sightings/{sighting_id}/crop.jpg", response_class=Response)
def sighting_crop(sighting_id: int, container: ContainerDep, user: Searcher, why: Why) -> Response:
    """The evidence crop of one sighting (JPEG; purpose required; audited)."""
    data = container.plates.crop(sighting_id=sighting_id, actor=user, why=why)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/route")
def vehicle_route(
    container: ContainerDep,
    user: Searcher,
    why: Why,
    plate: Annotated[str, Query(min_length=2, max_length=20)],
    since: AwareDatetime,
    until: AwareDatetime,
) -> dict[str, Any]:
    """One plate's sightings in order, the legs between cameras, and possible cloned plates."""
    route = container.plates.route(plate=plate, since=since, until=until, actor=user, why=why)
    return {
        "plate": route.plate,
        "sightings": [asdict(s) for s in route.sightings],
        "legs": [asdict(leg) for leg in route.legs],
        "possible_clones": [
            {
                "leg": leg,
                "first": s.first.camera_id,
                "second": s.second.camera_id,
                "distance_km": round(s.distance_km, 2),
                "hours": round(s.hours, 3),
                "needed_speed_kmh": round(s.needed_speed_kmh, 1),
            }
            for leg, s in zip(
                (i for i, leg in enumerate(route.legs) if leg.needed_speed_kmh is not None),
                route.suspicions,
                strict=True,
            )
        ],
    }


class RouteExportIn(BaseModel):
    """Which route to put in the evidence vault, and for which case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    plate: str = Field(min_length=2, max_length=20)
    since: AwareDatetime
    until: AwareDatetime
    case_number: str = Field(min_length=1, max_length=64)


@router.post("/route/export", status_code=201)
def export_route(
    body: RouteExportIn, container: ContainerDep, user: Searcher, why: Why
) -> dict[str, Any]:
    """Put the route of ``plate`` in the window (sightings, legs, possible cloned plates, as
    kupol-vehicle-route/1) and its sightings' crops in the evidence vault under
    ``case_number`` (also needs evidence.ingest; audited)."""
    result = container.plate_case_files.export(
        actor=user, why=why, plate=body.plate, since=body.since, until=body.until,
        case_number=body.case_number,
    )  # fmt: skip
    return asdict(result)


class HotlistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    kind: Literal["wanted", "stolen", "unpaid_fines", "other"]
    fuzzy: bool = Field(False, description="Also hit reads one character off.")


@router.post("/hotlists", status_code=201)
def create_hotlist(
    body: HotlistCreate, container: ContainerDep, user: CurrentUser
) -> dict[str, int]:
    """A new plate hotlist (investigators, traffic officers)."""
    hotlist_id = container.hotlists.create(
        name=body.name, kind=body.kind, fuzzy=body.fuzzy, actor=user
    )
    return {"id": hotlist_id}


@router.post("/hotlists/{hotlist_id}/import")
async def import_hotlist(
    hotlist_id: int,
    container: ContainerDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="CSV: plate,reason[,reference][,expires_at]")],
    replace: Annotated[
        bool, Query(description="The file is the whole list: take off the plates it lacks.")
    ] = False,
) -> dict[str, Any]:
    """Add or update entries from CSV; bad rows come back with their line and reason, the good
    ones are kept. With ``replace`` the plates the file no longer holds are taken off (not
    when a row was refused)."""
    import asyncio

    user.require(Permission.HOTLISTS_MANAGE)
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInputError(f"the file is larger than {MAX_CSV_BYTES // 2**20} MB")
    report = await asyncio.to_thread(
        container.hotlists.import_csv,
        hotlist_id=hotlist_id, data=data, actor=user, replace=replace,
    )  # fmt: skip
    return {
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "rejected": [{"line": line, "reason": reason} for line, reason in report.rejected],
    }


@router.get("/hotlists")
def list_hotlists(container: ContainerDep, user: Searcher) -> list[dict[str, Any]]:
    """Every hotlist with its settings and number of entries (no plates)."""
    return [asdict(h) for h in container.hotlists.lists(actor=user)]


@router.get("/hotlists/{hotlist_id}")
def get_hotlist(hotlist_id: int, container: ContainerDep, user: Searcher) -> dict[str, Any]:
    """One hotlist with its number of entries."""
    return asdict(container.hotlists.get(hotlist_id=hotlist_id, actor=user))


class HotlistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = Field(None, description="Whether sightings are matched against it.")
    fuzzy: bool | None = Field(None, description="Also hit reads one character off.")


@router.patch("/hotlists/{hotlist_id}")
def update_hotlist(
    hotlist_id: int, body: HotlistUpdate, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """Switch a list off (or on again), or its one-character-off matching."""
    changed = container.hotlists.update(
        hotlist_id=hotlist_id, active=body.active, fuzzy=body.fuzzy, actor=user
    )
    return asdict(changed)


@router.get("/hotlists/{hotlist_id}/entries")
def list_entries(
    hotlist_id: int,
    container: ContainerDep,
    user: Searcher,
    why: Why,
    plate: str | None = Query(None, max_length=20, description="Plates containing this."),
    limit: int = Query(200, ge=1, le=MAX_ENTRIES_PAGE),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """A page of the listed plates, by plate, and how many match in all (audited)."""
    page = container.hotlists.entries(
        hotlist_id=hotlist_id, plate=plate, limit=limit, offset=offset, actor=user, why=why
    )
    return asdict(page)


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    plate: str = Field(min_length=2, max_length=20)
    reason: str = Field(min_length=3, max_length=2000)
    reference: str | None = Field(None, max_length=120)
    expires_at: AwareDatetime | None = None


@router.post("/hotlists/{hotlist_id}/entries", status_code=201)
def add_entry(
    hotlist_id: int, body: EntryCreate, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    """List one plate (409 if it is on the list already: import a CSV to update)."""
    entry = container.hotlists.add_entry(
        hotlist_id=hotlist_id,
        plate=body.plate,
        reason=body.reason,
        reference=body.reference or None,
        expires_at=body.expires_at,
        actor=user,
    )
    return asdict(entry)


@router.delete("/hotlists/{hotlist_id}/entries/{entry_id}", status_code=204)
def remove_entry(
    hotlist_id: int,
    entry_id: int,
    container: ContainerDep,
    user: CurrentUser,
    reason: Annotated[str, Query(max_length=2000, description="Why the plate is taken off.")],
) -> Response:
    """Take a plate off a list; the audit log keeps the plate and the reason."""
    container.hotlists.remove_entry(
        hotlist_id=hotlist_id, entry_id=entry_id, reason=reason, actor=user
    )
    return Response(status_code=204)
