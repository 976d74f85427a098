"""The citizens' pages. The portal (``/portal``): a phone-sized page in Russian, Kazakh or
English to sign in by phone, report what one saw with photos or videos, follow one's reports
and rewards, and patrol as a public-order helper — drawn by its script from ``/api/citizen``,
no staff account needed or shown. The public statistics (``/public/citizens``), rendered here
for anyone. For staff: the review of reports (``/citizens/review``) and the helpers
(``/citizens/helpers``)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.api.deps import get_container
from kupol.citizens.helpers import DECISIONS
from kupol.citizens.helpers_recognition import load_recognition
from kupol.citizens.helpers_rules import ALMATY
from kupol.citizens.reports import KINDS
from kupol.citizens.review import REJECT_REASONS, UNMEASURED
from kupol.core.auth import Principal
from kupol.core.errors import InvalidInputError
from kupol.plates.formats import REGIONS
from kupol.traffic.legal import load_legal_table
from kupol.web.i18n import LOCALES
from kupol.web.rendering import guard, render
from kupol.web.session import group_pages, page
from kupol.web.tiles import MAX_ZOOM, DrawnTiles, FolderTiles

router = APIRouter(include_in_schema=False)
STATUSES = ("submitted", "confirmed", "duplicate", "rejected", "appealed")


@router.get("/portal")
def portal(request: Request, lang: str | None = None) -> Response:
    """The citizens' portal."""
    locale = lang if lang in LOCALES else "ru"
    return render(request, "portal.html", user=None, locale=locale, kinds=KINDS, data={})


@router.get("/tiles/{z}/{x}/{y}.png")
def tile(request: Request, z: int, x: int, y: int) -> Response:
    """A map tile for the place picker (no login: a map holds nothing about anyone)."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 1 << z and 0 <= y < 1 << z):
        return Response(status_code=404)
    settings = get_container(request).settings
    found = tiles_for(settings.server.map_tiles, settings.fleet.roads).tile(z, x, y)
    if found is None:
        return Response(status_code=404)
    return Response(found, media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})  # fmt: skip


@lru_cache(maxsize=4)
def tiles_for(folder: Path | None, roads: Path | None) -> FolderTiles | DrawnTiles:
    """The tile source the settings name (built once)."""
    if folder is not None:
        return FolderTiles(folder)
    return DrawnTiles(Path(__file__).parent / "static" / "geo" / "kz-regions.geojson", roads)


@router.get("/citizens/review")
def citizen_review(request: Request) -> Response:
    """Officers: citizens' reports to decide."""
    user = guard(request, page("citizen_review").permission)
    if not isinstance(user, Principal):
        return user
    offences = [a.offence for a in load_legal_table().article if a.offence not in UNMEASURED]
    return render(request, "citizen_review.html", user=user, locale=user.locale,
                  active="citizen_review", offences=offences, reasons=REJECT_REASONS,
                  tabs=group_pages(user, "citizens"), data={})  # fmt: skip


@router.get("/citizens/helpers")
def helpers(request: Request) -> Response:
    """The situation centre: public-order helpers, their shifts, activity and recognition."""
    user = guard(request, page("helpers").permission)
    if not isinstance(user, Principal):
        return user
    return render(request, "helpers.html", user=user, locale=user.locale, active="helpers",
                  tabs=group_pages(user, "citizens"), data={})  # fmt: skip


@router.get("/public/citizens")
def public_statistics(
    request: Request, lang: str | None = None, period: str | None = None
) -> Response:
    """Citizens' reports and their outcomes per region, for everyone (no login)."""
    locale = lang if lang in LOCALES else "ru"
    container = get_container(request)
    chosen = period or str(datetime.now(ALMATY).year)
    try:
        figures = container.citizens.statistics.of(chosen)
    except InvalidInputError:
        chosen = str(datetime.now(ALMATY).year)
        figures = container.citizens.statistics.of(chosen)
    names = {code: getattr(r, "name_" + locale, r.name_en) for code, r in REGIONS.items()}
    reported = {r.region: r for r in figures.reports.regions}
    codes = sorted({c for c in reported if c is not None} | figures.crime.keys())
    rows = [(names.get(c, c), reported.get(c), figures.crime.get(c)) for c in codes]
    if None in reported:
        rows.append((None, reported[None], None))
    return render(request, "public_citizens.html", user=None, locale=locale, period=chosen,
                  figures=figures, rows=rows, kinds=KINDS)  # fmt: skip


def dynamic_keys() -> list[str]:
    return (
        [f"portal.kind.{k}" for k in KINDS]
        + [f"helpers.state.{s}" for s in ("applied", "active", "declined", "suspended")]
        + [f"helpers.shift.{s}" for s in ("planned", "attended", "no_show", "cancelled")]
        + [f"helpers.do.{d}" for d in DECISIONS]
        + [f"helpers.why.{d}" for d in ("decline", "suspend")]
        + [f"helpers.level.{lv.name}" for v in load_recognition().version for lv in v.level]
        + [f"portal.status.{s}" for s in STATUSES]
        + [f"creview.reason.{r}" for r in REJECT_REASONS]
    )
