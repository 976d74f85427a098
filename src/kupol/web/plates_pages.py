"""Console pages of the plates domain: plate search, a vehicle's route on the map, and the
hotlists.

As with the faces pages, the pages carry no plate: sightings, routes and listed plates are
fetched by the page's script through the audited ``/api/plates`` endpoints with the purpose
(and case number) the user states; hotlist names and counts are all a page is drawn with.
Everyone who may search plates sees the hotlists; only those who manage them get the controls,
and the API refuses the others anyway.
"""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.api.deps import get_container
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.plates.formats import REGIONS, PlateKind, Region
from kupol.plates.hotlists import KINDS
from kupol.plates.queries import MAX_LIMIT, Match, VehicleClass, VehicleColour
from kupol.web.mapview import build_map, country_projection
from kupol.web.rendering import guard, render
from kupol.web.session import group_pages, page

router = APIRouter(include_in_schema=False)


def _cameras(request: Request, user: Principal) -> dict[str, str]:
    if not user.can(Permission.CAMERAS_READ):
        return {}
    return {c.id: c.name for c in get_container(request).cameras.list(scope=CameraScope.of(user))}


@router.get("/plates/search")
def plate_search(request: Request) -> Response:
    """The search form; sightings come from ``GET /api/plates/sightings`` with a purpose."""
    user = guard(request, page("plate_search").permission)
    if not isinstance(user, Principal):
        return user
    cameras = _cameras(request, user)
    return render(
        request,
        "plates_search.html",
        tabs=group_pages(user, "plates"),
        user=user,
        locale=user.locale,
        active="plate_search",
        cameras=cameras,
        matches=[m.value for m in Match],
        vehicle_classes=list(get_args(VehicleClass)),
        vehicle_colours=list(get_args(VehicleColour)),
        max_limit=MAX_LIMIT,
        data={
            "cameras": cameras,
            "regions": {code: _region_name(r, user.locale) for code, r in REGIONS.items()},
        },
    )


def _region_name(region: Region, locale: str) -> str:
    return {"kk": region.name_kk, "en": region.name_en}.get(locale, region.name_ru)


@router.get("/plates/route")
def plate_route(request: Request) -> Response:
    """The route form and the map; the route comes from ``GET /api/plates/route``. Those who
    may put evidence in the vault also get the route's export (``POST
    /api/plates/route/export``)."""
    user = guard(request, page("plate_route").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request,
        "plates_route.html",
        tabs=group_pages(user, "plates"),
        user=user,
        locale=user.locale,
        active="plate_route",
        view=build_map(cameras=[], locale=user.locale),
        data={
            "projection": country_projection().for_script(),
            "can_export": user.can(Permission.EVIDENCE_INGEST),
        },
    )


@router.get("/plates/hotlists")
def hotlists(request: Request) -> Response:
    """The lists with their settings and counts; listed plates come from the API once a
    purpose is stated. Managers also create lists, import CSV, add and remove plates."""
    user = guard(request, page("hotlists").permission)
    if not isinstance(user, Principal):
        return user
    lists = get_container(request).hotlists.lists(actor=user)
    return render(
        request,
        "plates_hotlists.html",
        tabs=group_pages(user, "plates"),
        user=user,
        locale=user.locale,
        active="hotlists",
        kinds=KINDS,
        data={
            "hotlists": [
                {
                    "id": h.id,
                    "name": h.name,
                    "kind": h.kind,
                    "fuzzy": h.fuzzy,
                    "active": h.active,
                    "owner": h.owner,
                    "entries": h.entries,
                }
                for h in lists
            ],
            "can_manage": user.can(Permission.HOTLISTS_MANAGE),
        },
    )


def dynamic_keys() -> list[str]:
    """Catalogue keys the plates pages build from values."""
    return (
        [f"plates.kind.{k}" for k in KINDS]
        + [f"plates.match.{m.value}" for m in Match]
        + [f"vehicle.class.{c}" for c in get_args(VehicleClass)]
        + [f"vehicle.colour.{c}" for c in get_args(VehicleColour)]
        + [f"platekind.{k.value}" for k in PlateKind if k is not PlateKind.INVALID]
    )
