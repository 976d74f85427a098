"""The registries' pages. Driving schools: the ranking with its evidence and the inspectors' flags
(``/schools``), one school with its flags and the inspection form (``/schools/{id}``) — drawn
by their scripts from ``/api/schools`` — and the public ratings (``/public/schools``), rendered
here for anyone, with no login and no person named. E-scooters: the operators and a
day's compliance report (``/scooters``), drawn from ``/api/scooters``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.api.deps import get_container
from kupol.core.auth import Permission, Principal
from kupol.schools.model import FLAG_KINDS
from kupol.schools.quality import SCHOOL_WEIGHTS
from kupol.schools.service import SANCTIONS
from kupol.web.i18n import LOCALES
from kupol.web.rendering import guard, render
from kupol.web.session import page

router = APIRouter(include_in_schema=False)


@router.get("/schools")
def schools(request: Request) -> Response:
    """The ranking and the open flags."""
    user = guard(request, page("schools").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request, "schools.html", user=user, locale=user.locale, active="schools",
        data={"can_inspect": user.can(Permission.SCHOOLS_INSPECT)},
    )  # fmt: skip


@router.get("/schools/{school_id}")
def school(request: Request, school_id: str) -> Response:
    """One school: its score's evidence, flags, inspections."""
    user = guard(request, page("schools").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request, "school.html", user=user, locale=user.locale, active="schools",
        data={"school_id": school_id, "can_inspect": user.can(Permission.SCHOOLS_INSPECT)},
        sanctions=SANCTIONS,
    )  # fmt: skip


@router.get("/public/schools")
def public_schools(
    request: Request, lang: str | None = None, region: str | None = None
) -> Response:
    """Driving schools' ratings for the public (no login)."""
    locale = lang if lang in LOCALES else "ru"
    container = get_container(request)
    regions = container.schools.regions()
    chosen = region if region in regions else None
    return render(
        request, "public_schools.html", user=None, locale=locale, regions=regions,
        region=chosen, ratings=container.schools.public_ratings(chosen),
    )  # fmt: skip


def dynamic_keys() -> list[str]:
    """Catalogue keys the pages build from values."""
    return (
        [f"schools.flag.{k}" for k in FLAG_KINDS]
        + [f"schools.component.{c}" for c in SCHOOL_WEIGHTS]
        + [f"schools.sanction.{s}" for s in SANCTIONS]
        + [f"schools.fstatus.{s}" for s in ("open", "inspected", "dismissed")]
        + [f"schools.severity.{s}" for s in ("low", "medium", "high")]
        + [f"schools.status.{s}" for s in ("ranked", "insufficient_data")]
    )


@router.get("/scooters")
def scooters(request: Request) -> Response:
    """Rental e-scooter operators and their compliance reports."""
    user = guard(request, page("scooters").permission)
    if not isinstance(user, Principal):
        return user
    return render(request, "scooters.html", user=user, locale=user.locale, active="scooters",
                  data={})  # fmt: skip


def scooter_keys() -> list[str]:
    """Catalogue keys the scooters page builds from values."""
    from kupol.scooters.violations import ViolationKind

    return [f"scooters.kind.{k.value}" for k in ViolationKind]
