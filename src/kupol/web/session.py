"""Who is looking at a console page, and which pages they may open.

Pages use the same ``kupol_session`` cookie as the JSON API (set by ``POST /api/auth/login``
or the login form); a missing or stale cookie sends the browser to ``/login``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from kupol.api.deps import SESSION_COOKIE, get_container
from kupol.core.auth import Permission, Principal
from kupol.core.errors import AuthenticationError


@dataclass(frozen=True, kw_only=True)
class Page:
    """A console page in the navigation: its path, catalogue key and the permission it needs."""

    name: str
    path: str
    label_key: str
    permission: Permission
    group: str | None = None
    """Pages of a group share one entry in the top bar (``nav.<group>``) and show each other
    as tabs, so a domain with several pages does not crowd the bar."""


@dataclass(frozen=True, kw_only=True)
class NavEntry:
    """An entry of the top bar: a page, or the first page of a group the user may open."""

    name: str
    path: str
    label_key: str
    pages: tuple[str, ...]
    """The pages the entry stands for (it is highlighted on each)."""


PAGES: tuple[Page, ...] = (
    Page(name="dashboard", path="/", label_key="nav.dashboard", permission=Permission.ALERTS_READ),
    Page(name="map", path="/map", label_key="nav.map", permission=Permission.CAMERAS_READ),
    Page(
        name="cameras",
        path="/cameras",
        label_key="nav.cameras",
        permission=Permission.CAMERAS_READ,
    ),
    Page(name="search", path="/search", label_key="nav.search", permission=Permission.EVENTS_READ),
    Page(
        name="face_hits",
        path="/faces/hits",
        label_key="nav.face_hits",
        permission=Permission.FACE_HITS_REVIEW,
        group="faces",
    ),
    Page(
        name="watchlists",
        path="/faces/watchlists",
        label_key="nav.watchlists",
        permission=Permission.WATCHLISTS_READ,
        group="faces",
    ),
    Page(
        name="face_search",
        path="/faces/search",
        label_key="nav.face_search",
        permission=Permission.FACES_SEARCH,
        group="faces",
    ),
    Page(
        name="plate_search",
        path="/plates/search",
        label_key="nav.plate_search",
        permission=Permission.PLATES_SEARCH,
        group="plates",
    ),
    Page(
        name="plate_route",
        path="/plates/route",
        label_key="nav.plate_route",
        permission=Permission.PLATES_SEARCH,
        group="plates",
    ),
    Page(
        name="hotlists",
        path="/plates/hotlists",
        label_key="nav.hotlists",
        permission=Permission.PLATES_SEARCH,
        group="plates",
    ),
    Page(
        name="traffic_review",
        path="/traffic/review",
        label_key="nav.traffic_review",
        permission=Permission.VIOLATIONS_READ,
        group="traffic",
    ),
    Page(
        name="crossings",
        path="/traffic/crossings",
        label_key="nav.crossings",
        permission=Permission.TRAFFIC_STATS,
        group="traffic",
    ),
    Page(
        name="calibration",
        path="/traffic/calibration",
        label_key="nav.calibration",
        permission=Permission.CAMERAS_WRITE,
        group="traffic",
    ),
    Page(
        name="road_safety",
        path="/roads",
        label_key="nav.road_safety",
        permission=Permission.ROADS_READ,
        group="traffic",
    ),
    Page(
        name="evidence_items",
        path="/evidence",
        label_key="nav.evidence_items",
        permission=Permission.EVIDENCE_VIEW,
        group="evidence",
    ),
    Page(
        name="incidents",
        path="/evidence/incidents",
        label_key="nav.incidents",
        permission=Permission.INCIDENTS_READ,
        group="evidence",
    ),
    Page(
        name="devices",
        path="/evidence/devices",
        label_key="nav.devices",
        permission=Permission.EVIDENCE_VIEW,
        group="evidence",
    ),
    Page(
        name="redaction",
        path="/evidence/redaction",
        label_key="nav.redaction",
        permission=Permission.EVIDENCE_EXPORT,
        group="evidence",
    ),
    Page(
        name="documents",
        path="/documents",
        label_key="nav.documents",
        permission=Permission.DOCUMENTS_READ,
        group="evidence",
    ),
    Page(name="fleet", path="/fleet", label_key="nav.fleet", permission=Permission.FLEET_READ),
    Page(
        name="citizen_review",
        path="/citizens/review",
        label_key="nav.citizen_review",
        permission=Permission.CITIZEN_REVIEW,
        group="citizens",
    ),
    Page(
        name="helpers",
        path="/citizens/helpers",
        label_key="nav.helpers",
        permission=Permission.HELPERS_MANAGE,
        group="citizens",
    ),
    Page(
        name="schools",
        path="/schools",
        label_key="nav.schools",
        permission=Permission.SCHOOLS_READ,
        group="registries",
    ),
    Page(
        name="scooters",
        path="/scooters",
        label_key="nav.scooters",
        permission=Permission.SCOOTERS_READ,
        group="registries",
    ),
    Page(
        name="antifraud",
        path="/antifraud",
        label_key="nav.antifraud",
        permission=Permission.NUMBERS_READ,
    ),
    Page(name="audit", path="/audit", label_key="nav.audit", permission=Permission.AUDIT_READ),
    Page(name="health", path="/health", label_key="nav.health", permission=Permission.METRICS_READ),
)
# Where a user lands when they may not see the dashboard: an auditor's work is the log, a
# fraud analyst's the anti-fraud page.
LANDING_ORDER = ("dashboard", "audit", "antifraud", "search", "map")


def page(name: str) -> Page:
    """The page called ``name``."""
    return next(p for p in PAGES if p.name == name)


def pages_for(user: Principal) -> list[Page]:
    """The pages ``user`` may open, in navigation order."""
    return [p for p in PAGES if user.can(p.permission)]


def navigation(user: Principal) -> list[NavEntry]:
    """The top bar of ``user``: their pages in order, each group once (at its first page).

    Example:
        >>> from kupol.core.auth import Principal
        >>> duty = Principal(user_id=1, username="u", full_name="", roles=("operator",),
        ...                  locale="ru")
        >>> [(e.name, e.path, e.pages) for e in navigation(duty)][-2]
        ('faces', '/faces/hits', ('face_hits', 'watchlists'))
    """
    allowed = pages_for(user)
    entries: list[NavEntry] = []
    for p in allowed:
        if p.group is None:
            entries.append(
                NavEntry(name=p.name, path=p.path, label_key=p.label_key, pages=(p.name,))
            )
        elif all(e.name != p.group for e in entries):
            members = tuple(q.name for q in allowed if q.group == p.group)
            entries.append(
                NavEntry(name=p.group, path=p.path, label_key=f"nav.{p.group}", pages=members)
            )
    return entries


def group_pages(user: Principal, group: str) -> list[Page]:
    """The pages of ``group`` that ``user`` may open: the tabs on those pages."""
    return [p for p in pages_for(user) if p.group == group]


def landing_page(user: Principal) -> Page | None:
    """The first page ``user`` should see after logging in; ``None`` if they may see none."""
    allowed = {p.name for p in pages_for(user)}
    return next((page(name) for name in LANDING_ORDER if name in allowed), None)


def session_user(request: Request) -> Principal | None:
    """The user of the console session cookie, or ``None`` when there is no valid session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return get_container(request).auth.authenticate(token)
    except AuthenticationError:
        return None


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (other hosts, ``//x``) becomes ``/``.

    Example:
        >>> safe_next("/audit?actor=x"), safe_next("https://evil.example/"), safe_next("//x")
        ('/audit?actor=x', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def to_login(request: Request) -> RedirectResponse:
    """Send the browser to the login page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    suffix = "" if target == "/" else f"?next={quote(target, safe='')}"
    return RedirectResponse(f"/login{suffix}", status_code=303)
