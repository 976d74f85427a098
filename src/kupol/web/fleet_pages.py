"""The fleet page: the live map of units, their tracks, geofences and dispatch routes; the
units' state and advisories; and dispatch (a place clicked on the map, the units ranked by
their time to it, one sent) — drawn by its script from ``/api/fleet``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.core.auth import Permission, Principal
from kupol.fleet.service import KINDS, STATUSES
from kupol.web.rendering import guard, render
from kupol.web.session import page

router = APIRouter(include_in_schema=False)
ADVISORIES = (
    "battery_low", "battery_critical", "link_stale", "link_lost", "geofence_breach", "left_area",
)  # fmt: skip
LINKS = ("none", "ok", "stale", "lost")
HOWS = ("roads", "air", "estimate")


@router.get("/fleet")
def fleet(request: Request) -> Response:
    """Drones, robot dogs and patrols, live."""
    user = guard(request, page("fleet").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request, "fleet.html", user=user, locale=user.locale, active="fleet",
        data={"can_dispatch": user.can(Permission.FLEET_MANAGE)},
    )  # fmt: skip


@router.get("/fleet/units/{callsign}")
def fleet_unit(request: Request, callsign: str) -> Response:
    """One unit: its state, video, telemetry charts, missions and dispatches."""
    user = guard(request, page("fleet").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request, "fleet_unit.html", user=user, locale=user.locale, active="fleet",
        data={"callsign": callsign, "can_manage": user.can(Permission.FLEET_MANAGE),
              "can_view_video": user.can(Permission.LIVE_VIEW)},
    )  # fmt: skip


def dynamic_keys() -> list[str]:
    """Catalogue keys the page builds from values."""
    return (
        [f"fleet.kind.{k}" for k in KINDS]
        + [f"fleet.status.{s}" for s in STATUSES]
        + [f"fleet.advisory.{a}" for a in ADVISORIES]
        + [f"fleet.link.{link}" for link in LINKS]
        + [f"fleet.how.{h}" for h in HOWS]
        + [f"fleet.dstatus.{s}" for s in ("en_route", "arrived", "cancelled")]
        + [f"fleet.mstatus.{s}" for s in ("planned", "uploaded", "active", "done", "aborted")]
    )
