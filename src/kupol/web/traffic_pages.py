"""Console pages of traffic enforcement: the officers' review queue with its evidence viewer,
the crossings' dashboard with the rules' rejection counts, and the calibration tool.

The review page carries no plate or picture: violations and evidence are fetched by its
script through the audited ``/api/traffic`` endpoints with the purpose the officer states.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.api.deps import get_container
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.traffic.review import REJECT_REASONS
from kupol.web.rendering import guard, render
from kupol.web.session import group_pages, page

router = APIRouter(include_in_schema=False)


def _cameras(request: Request, user: Principal) -> dict[str, str]:
    if not user.can(Permission.CAMERAS_READ):
        return {}
    return {c.id: c.name for c in get_container(request).cameras.list(scope=CameraScope.of(user))}


@router.get("/traffic/review")
def review(request: Request) -> Response:
    """The queue; violations come from ``GET /api/traffic/violations`` with a purpose."""
    user = guard(request, page("traffic_review").permission)
    if not isinstance(user, Principal):
        return user
    offences = [a.offence for a in get_container(request).traffic.legal.article]
    return render(
        request,
        "traffic_review.html",
        tabs=group_pages(user, "traffic"),
        user=user,
        locale=user.locale,
        active="traffic_review",
        reasons=REJECT_REASONS,
        offences=offences,
        cameras=_cameras(request, user),
        data={
            "cameras": _cameras(request, user),
            "can_decide": user.can(Permission.VIOLATIONS_REVIEW),
        },
    )


@router.get("/traffic/crossings")
def crossings(request: Request) -> Response:
    """Crossings' counts per hour and day, and decisions per rule and camera."""
    user = guard(request, page("crossings").permission)
    if not isinstance(user, Principal):
        return user
    container = get_container(request)
    return render(
        request,
        "traffic_crossings.html",
        tabs=group_pages(user, "traffic"),
        user=user,
        locale=user.locale,
        active="crossings",
        data={
            "crossings": [
                {"crossing_id": c["crossing_id"], "camera_id": c["camera_id"]}
                for c in container.traffic.dashboard.crossings(actor=user)
            ],
            "cameras": _cameras(request, user),
        },
    )


@router.get("/traffic/calibration")
def calibration(request: Request) -> Response:
    """Mark road points on a camera's frame; the fit is checked and saved with the camera."""
    user = guard(request, page("calibration").permission)
    if not isinstance(user, Principal):
        return user
    container = get_container(request)
    cameras = [
        {
            "id": c.id,
            "name": c.name,
            "traffic": (c.analytics or {}).get("traffic", {}),
        }
        for c in container.cameras.list(scope=CameraScope.of(user))
    ]
    return render(
        request,
        "traffic_calibration.html",
        tabs=group_pages(user, "traffic"),
        user=user,
        locale=user.locale,
        active="calibration",
        data={"cameras": cameras, "can_view_live": user.can(Permission.LIVE_VIEW)},
    )


def dynamic_keys() -> list[str]:
    """Catalogue keys the traffic pages build from values."""
    offences = [
        "speeding",
        "red_light",
        "failing_to_yield_to_pedestrian",
        "scooter_speeding",
        "scooter_sidewalk_speeding",
        "scooter_passenger",
    ]
    kinds = ["frame_before", "frame_at", "frame_after", "vehicle", "clip", "citizen_media"]
    return (
        [f"traffic.reason.{r}" for r in REJECT_REASONS]
        + [f"traffic.offence.{o}" for o in offences]
        + [f"traffic.evidence.{k}" for k in kinds]
        + [f"traffic.status.{s}" for s in ("pending", "approved", "rejected")]
        + [f"review.plate_source.{s}" for s in ("camera", "sighting", "officer")]
    )
