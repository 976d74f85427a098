"""Console pages of the faces domain: watchlists, the hit review queue and the retrospective
face search.

The pages themselves carry no personal data. Persons, photos, hits and sightings are fetched
by the page's script through the audited ``/api/faces`` endpoints, with the purpose (and, for
a search, the case number) the user states on the page; the API refuses what a role may not
do, and the pages only hide the controls such a user could not use.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kupol.api.deps import get_container
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.faces.hits import MIN_DECISIONS_FOR_SUGGESTION
from kupol.faces.model import HitStatus, WatchlistKind
from kupol.web.mapview import build_map, country_projection
from kupol.web.rendering import guard, render
from kupol.web.session import group_pages, page

router = APIRouter(include_in_schema=False)
QUALITY_REASONS = ("too_small", "blurred", "turned", "low_confidence")
"""Why a face is not usable (:class:`kupol.faces.types.Quality`), as the pages explain them."""


def _camera_names(request: Request, user: Principal) -> dict[str, str]:
    if not user.can(Permission.CAMERAS_READ):
        return {}
    return {c.id: c.name for c in get_container(request).cameras.list(scope=CameraScope.of(user))}


@router.get("/faces/watchlists")
def watchlists(request: Request) -> Response:
    """The lists with their settings; persons and photos come from the API once a purpose is
    stated. Investigators also create lists, add and remove persons and enrol photos."""
    user = guard(request, page("watchlists").permission)
    if not isinstance(user, Principal):
        return user
    container = get_container(request)
    lists = container.faces.watchlists.lists(actor=user)
    return render(
        request,
        "faces_watchlists.html",
        tabs=group_pages(user, "faces"),
        user=user,
        locale=user.locale,
        active="watchlists",
        kinds=[k.value for k in WatchlistKind],
        default_threshold=container.settings.faces.default_threshold,
        data={
            "watchlists": [w.model_dump(mode="json") for w in lists],
            "can_manage": user.can(Permission.WATCHLISTS_MANAGE),
            "min_decisions": MIN_DECISIONS_FOR_SUGGESTION,
        },
    )


@router.get("/faces/hits")
def hit_queue(request: Request) -> Response:
    """The review queue, newest first; refreshed when the live feed reports a face match."""
    user = guard(request, page("face_hits").permission)
    if not isinstance(user, Principal):
        return user
    return render(
        request,
        "faces_hits.html",
        tabs=group_pages(user, "faces"),
        user=user,
        locale=user.locale,
        active="face_hits",
        statuses=[s.value for s in HitStatus],
        data={
            "cameras": _camera_names(request, user),
            "live": user.can(Permission.ALERTS_READ),
        },
    )


@router.get("/faces/search")
def face_search(request: Request) -> Response:
    """The retrospective search form; results (a timeline and a route on the map) come from
    ``POST /api/faces/search`` with a case number and a purpose."""
    user = guard(request, page("face_search").permission)
    if not isinstance(user, Principal):
        return user
    cameras = _camera_names(request, user)
    return render(
        request,
        "faces_search.html",
        tabs=group_pages(user, "faces"),
        user=user,
        locale=user.locale,
        active="face_search",
        cameras=cameras,
        view=build_map(cameras=[], locale=user.locale),
        data={"cameras": cameras, "projection": country_projection().for_script()},
    )


def dynamic_keys() -> list[str]:
    """Catalogue keys the faces pages build from values."""
    return (
        [f"watchlists.kind.{k.value}" for k in WatchlistKind]
        + [f"hits.status.{s.value}" for s in HitStatus]
        + [f"faces.reason.{r}" for r in QUALITY_REASONS]
    )
