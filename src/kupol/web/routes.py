"""Console pages: the live dashboard, the camera map, live cameras, event search and the audit
log (login is in :mod:`kupol.web.login_pages`, the faces and plates pages in
:mod:`kupol.web.faces_pages` and :mod:`kupol.web.plates_pages`).

Pages are rendered here from the services in the container; everything that changes after
the page is drawn (live alerts, searches, acknowledging, verifying the audit chain) goes
through the JSON API from the page's script, with the same session cookie.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from kupol.alerts.model import AlertStatus, Severity
from kupol.api.deps import get_container
from kupol.bootstrap import Container
from kupol.cameras.model import CameraKind
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope
from kupol.web import (
    antifraud_pages,
    citizens_pages,
    evidence_pages,
    faces_pages,
    fleet_pages,
    login_pages,
    plates_pages,
    registries_pages,
    roads_pages,
    traffic_pages,
)
from kupol.web.i18n import LOCALES
from kupol.web.mapview import build_map
from kupol.web.rendering import STATIC, forbidden, guard, render
from kupol.web.session import PAGES, landing_page, page, session_user, to_login

router = APIRouter(include_in_schema=False)
router.include_router(login_pages.router)
router.include_router(faces_pages.router)
router.include_router(plates_pages.router)
router.include_router(traffic_pages.router)
router.include_router(roads_pages.router)
router.include_router(antifraud_pages.router)
router.include_router(fleet_pages.router)
router.include_router(citizens_pages.router)
router.include_router(registries_pages.router)
router.include_router(evidence_pages.router)
ACTIVE_LIMIT = 200


def mount_static(app: FastAPI) -> None:
    """Serve the console's static files under /static."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _active_alerts(container: Container, user: Principal) -> list[dict[str, Any]]:
    """Open and acknowledged alerts as JSON for the page's script."""
    return [
        a.model_dump(mode="json")
        for status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
        for a in container.alerts.list_alerts(actor=user, status=status.value, limit=ACTIVE_LIMIT)
    ]


@router.get("/")
def dashboard(request: Request) -> Response:
    """Live alerts, counts by status and the recent-events ticker."""
    user = session_user(request)
    if user is None:
        return to_login(request)
    if not user.can(Permission.ALERTS_READ):
        home = landing_page(user)
        if home is not None and home.name != "dashboard":
            return RedirectResponse(home.path, status_code=303)
        return forbidden(request, user, Permission.ALERTS_READ)
    container = get_container(request)
    counts = {s.value: 0 for s in AlertStatus} | container.alerts.counts(scope=CameraScope.of(user))
    names = (
        {c.id: c.name for c in container.cameras.list(scope=CameraScope.of(user))}
        if user.can(Permission.CAMERAS_READ)
        else {}
    )
    return render(
        request,
        "dashboard.html",
        user=user,
        locale=user.locale,
        active="dashboard",
        data={
            "alerts": _active_alerts(container, user),
            "counts": counts,
            "cameras": names,
            "can_handle": user.can(Permission.ALERTS_HANDLE),
        },
        counts=counts,
        statuses=[s.value for s in AlertStatus],
    )


@router.get("/map")
def camera_map(request: Request) -> Response:
    """Cameras over Kazakhstan's regions, coloured by kind; open alerts highlight cameras."""
    user = guard(request, page("map").permission)
    if not isinstance(user, Principal):
        return user
    container = get_container(request)
    cameras = [
        c if user.can(Permission.CAMERAS_WRITE) else c.without_credentials()
        for c in container.cameras.list(scope=CameraScope.of(user))
    ]
    view = build_map(cameras=cameras, locale=user.locale)
    alerts = _active_alerts(container, user) if user.can(Permission.ALERTS_READ) else []
    return render(
        request,
        "map.html",
        user=user,
        locale=user.locale,
        active="map",
        view=view,
        kinds=[k.value for k in CameraKind],
        data={
            "cameras": [c.model_dump(mode="json") for c in cameras],
            "regions": view.region_names(),
            "alerts": alerts,
            "live": user.can(Permission.ALERTS_READ),
            "can_search": user.can(Permission.EVENTS_READ),
        },
    )


@router.get("/cameras")
def live_cameras(request: Request) -> Response:
    """Every camera's pipeline health; its live view once a purpose is stated (live.view);
    the zone editor for those who manage cameras. Pictures and health come from the API."""
    user = guard(request, page("cameras").permission)
    if not isinstance(user, Principal):
        return user
    cameras = get_container(request).cameras.list(scope=CameraScope.of(user))
    # Cameras that can have a pipeline first: they are what the operator came to watch.
    cameras.sort(key=lambda c: not (c.enabled and c.stream_url))
    return render(
        request,
        "cameras.html",
        user=user,
        locale=user.locale,
        active="cameras",
        cameras=cameras,
        data={
            "cameras": [
                {
                    "id": c.id,
                    "name": c.name,
                    "enabled": c.enabled,
                    "stream": bool(c.stream_url),
                }
                for c in cameras
            ],
            "live": user.can(Permission.LIVE_VIEW),
            "can_edit": user.can(Permission.CAMERAS_WRITE),
        },
    )


@router.get("/search")
def event_search(request: Request, camera_id: str | None = None) -> Response:
    """The audited event search form; results come from ``GET /api/events`` with a purpose."""
    user = guard(request, page("search").permission)
    if not isinstance(user, Principal):
        return user
    cameras = (
        get_container(request).cameras.list(scope=CameraScope.of(user))
        if user.can(Permission.CAMERAS_READ)
        else []
    )
    return render(
        request,
        "search.html",
        user=user,
        locale=user.locale,
        active="search",
        cameras=cameras,
        camera_id=camera_id or "",
        data={
            "evidence": user.can(Permission.EVIDENCE_VIEW),
            "cameras": {c.id: c.name for c in cameras},
        },
    )


@router.get("/audit")
def audit_log(request: Request) -> Response:
    """Auditors: the audit log with filters and the chain check (reads go through the API,
    which records each one)."""
    user = guard(request, page("audit").permission)
    if not isinstance(user, Principal):
        return user
    return render(request, "audit.html", user=user, locale=user.locale, active="audit", data={})


@router.get("/health")
def health_page(request: Request) -> Response:
    """Administrators (and the monitor account): readiness, pipelines, the bus, decisions."""
    user = guard(request, page("health").permission)
    if not isinstance(user, Principal):
        return user
    return render(request, "health.html", user=user, locale=user.locale, active="health",
                  data={})  # fmt: skip


def dynamic_keys() -> list[str]:
    """Catalogue keys that templates and scripts build from values rather than spell out
    (checked by the catalogue test along with the literal ones)."""
    return (
        [f"severity.{s.value}" for s in Severity]
        + [f"{prefix}.{s.value}" for prefix in ("status", "count") for s in AlertStatus]
        + [f"kind.{k.value}" for k in CameraKind]
        + [p.label_key for p in PAGES]
        + [f"nav.{p.group}" for p in PAGES if p.group]
        + [f"lang.{code}{suffix}" for code in LOCALES for suffix in ("", ".title")]
        + faces_pages.dynamic_keys()
        + plates_pages.dynamic_keys()
        + traffic_pages.dynamic_keys()
        + roads_pages.dynamic_keys()
        + antifraud_pages.dynamic_keys()
        + fleet_pages.dynamic_keys()
        + citizens_pages.dynamic_keys()
        + registries_pages.dynamic_keys()
        + registries_pages.scooter_keys()
        + evidence_pages.dynamic_keys()
    )
