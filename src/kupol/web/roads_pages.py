"""The road-safety analytics page: regional rates, hotspots on a map, the evaluation of a
measure, imports of accident records and the report to download — all drawn by its script
from ``/api/roads``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.api.deps import get_container
from kupol.core.auth import Permission, Principal
from kupol.plates.formats import Region
from kupol.roads.analyses import load_measures
from kupol.roads.mapping import SHIPPED
from kupol.roads.stats import DIMENSIONS, MEASURES
from kupol.web.rendering import guard, render
from kupol.web.session import group_pages, page

router = APIRouter(include_in_schema=False)


@router.get("/roads")
def road_safety(request: Request) -> Response:
    """Accident analytics."""
    user = guard(request, page("road_safety").permission)
    if not isinstance(user, Principal):
        return user
    container = get_container(request)
    regions = container.roads.regions
    sources = sorted({i.source for i in container.roads.registry.imports(actor=user)})
    return render(
        request,
        "roads.html",
        tabs=group_pages(user, "traffic"),
        user=user,
        locale=user.locale,
        active="road_safety",
        mappings=sorted(p.stem for p in SHIPPED.glob("*.toml")),
        measures=sorted(container.roads.analyses.measures),
        dimensions=DIMENSIONS,
        data={
            "sources": sources,
            "regions": {r.code: _name(r, user.locale) for r in regions.regions()},
            "can_import": user.can(Permission.ROADS_IMPORT),
            "measures": list(MEASURES),
        },
    )


def _name(region: Region, locale: str) -> str:
    return {"kk": region.name_kk, "en": region.name_en}.get(locale, region.name_ru)


def dynamic_keys() -> list[str]:
    """Catalogue keys the page builds from values."""
    return (
        [f"roads.by.{d}" for d in DIMENSIONS]
        + [f"roads.measure.{m}" for m in MEASURES]
        + [f"roads.advice.{m}" for m in load_measures()]
    )
