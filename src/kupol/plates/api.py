"""Plates API: sightings search and a vehicle's route, audited with the stated purpose."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from kupol.api.deps import ContainerDep, Why, require
from kupol.core.auth import Permission, Principal
from kupol.plates.queries import MAX_LIMIT, Match, PlateFilter

router = APIRouter(prefix="/api/plates", tags=["plates"])
Searcher = Annotated[Principal, Depends(require(Permission.PLATES_SEARCH))]


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
) -> list[dict[str, Any]]:
    """Plate sightings, newest first (audited)."""
    found = container.plates.search(
        filters=PlateFilter(
            plate=plate, match=match, camera_id=camera_id, since=since, until=until, limit=limit
        ),
        actor=user,
        why=why,
    )
    return [asdict(s) for s in found]


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
                "first": s.first.camera_id,
                "second": s.second.camera_id,
                "distance_km": round(s.distance_km, 2),
                "hours": round(s.hours, 3),
                "needed_speed_kmh": round(s.needed_speed_kmh, 1),
            }
            for s in route.suspicions
        ],
    }
