"""Role checks per endpoint, as a matrix: every route in the OpenAPI document, called as a user
with each single role, answers 403 exactly when PERMISSIONS denies that role what the route
needs, and neither 401 nor 403 when it grants it.

What a route needs is read from the route itself — its ``require(...)`` dependencies, marked
with ``PERMISSION_ATTRIBUTE`` — and, for routes that check inside their service, from
CHECKED_INSIDE below, which must name every such route. A spy on ``Principal.require``
records what each allowed request really checked, so the table cannot understate a route.

Order (FastAPI 0.165): dependencies run before the endpoint's own parameters and body are
validated, so a ``require(...)`` dependency answers 403 even to a malformed request; a check
inside a service runs only after validation. Requests are therefore made well-formed from the
OpenAPI schemas (``openapi_requests``), so both kinds of check are reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from kupol.api.deps import PERMISSION_ATTRIBUTE
from kupol.bootstrap import Container
from kupol.core.auth import Permission, Principal, Role, allowed_roles
from tests.integration.openapi_requests import example_request
from tests.integration.test_api_security import PUBLIC, PUBLIC_METHODS
from tests.integration.test_citizens import sign_in
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)

PROBES = {"GET /healthz", "GET /readyz"}  # the orchestrator's liveness and readiness: no data
ANY_SIGNED_IN = {  # one's own account, language and second factor
    "GET /api/me", "PUT /api/me/locale",
    "POST /api/auth/mfa/setup", "POST /api/auth/mfa/confirm", "POST /api/auth/mfa/disable",
}  # fmt: skip
ENDLESS = {"GET /api/stream"}  # server-sent events: read the status, then hang up

# Routes that take ``CurrentUser`` and call ``actor.require(...)`` in their handler or service
# (and the extra checks of routes that also have a ``require(...)`` dependency).
CHECKED_INSIDE: dict[Permission, set[str]] = {
    Permission.ALERTS_READ: {"GET /api/alerts", "GET /api/stream"},
    Permission.ALERTS_HANDLE: {
        "POST /api/alerts/{alert_id}/acknowledge", "POST /api/alerts/{alert_id}/close",
    },
    Permission.CAMERAS_WRITE: {"POST /api/traffic/calibration/check"},
    Permission.EVENTS_READ: {"GET /api/events", "GET /api/events/{event_id}"},
    Permission.WATCHLISTS_MANAGE: {
        "POST /api/faces/watchlists", "PATCH /api/faces/watchlists/{watchlist_id}",
        "POST /api/faces/watchlists/{watchlist_id}/persons",
        "PATCH /api/faces/persons/{person_id}", "DELETE /api/faces/persons/{person_id}",
        "POST /api/faces/persons/{person_id}/photos", "DELETE /api/faces/photos/{photo_id}",
    },
    Permission.FACE_HITS_REVIEW: {
        "GET /api/faces/hits", "GET /api/faces/hits/{hit_id}",
        "GET /api/faces/hits/{hit_id}/{which}.jpg", "POST /api/faces/hits/{hit_id}/decision",
    },
    Permission.FACES_SEARCH: {
        "POST /api/faces/search", "GET /api/faces/sightings/{sighting_id}/crop.jpg",
    },
    Permission.FACES_EXPORT: {"POST /api/faces/export/{event_id}"},
    Permission.HOTLISTS_MANAGE: {
        "POST /api/plates/hotlists", "POST /api/plates/hotlists/{hotlist_id}/import",
        "PATCH /api/plates/hotlists/{hotlist_id}",
        "POST /api/plates/hotlists/{hotlist_id}/entries",
        "DELETE /api/plates/hotlists/{hotlist_id}/entries/{entry_id}",
    },
    Permission.VEHICLE_REGISTRY: {"POST /api/traffic/registry/import"},
    Permission.PAYMENTS_UPDATE: {"PUT /api/traffic/notices/{notice_id}/payment"},
    Permission.VIOLATIONS_REVIEW: {"POST /api/traffic/notices/{notice_id}/refund"},
    Permission.SIGNALS_REPORT: {"POST /api/traffic/signals/{signal_id}"},
    Permission.ROADS_READ: {
        "GET /api/roads/imports", "GET /api/roads/imports/{import_id}", "GET /api/roads/stats",
        "GET /api/roads/ranking", "GET /api/roads/trend", "GET /api/roads/regions",
        "GET /api/roads/crime", "GET /api/roads/hotspots", "GET /api/roads/hotspots/roads",
        "POST /api/roads/evaluations", "GET /api/roads/advice", "GET /api/roads/report.{fmt}",
        "GET /api/roads/accidents", "GET /api/roads/accidents/{accident_id}/candidates",
        "GET /api/roads/measures", "GET /api/roads/measures/{measure_id}/evaluation",
        "POST /api/roads/accidents/{accident_id}/links",
    },
    # Linking needs the read permission of the linked kind too; the example links a violation.
    Permission.VIOLATIONS_READ: {"POST /api/roads/accidents/{accident_id}/links"},
    Permission.ROADS_IMPORT: {
        "POST /api/roads/imports", "POST /api/roads/crime", "POST /api/roads/measures",
    },
    Permission.FLEET_READ: {"POST /api/fleet/missions/{mission_id}/upload"},
    Permission.EVIDENCE_INGEST: {
        "POST /api/evidence", "POST /api/evidence/dock", "POST /api/evidence/uploads",
        "HEAD /api/evidence/uploads/{upload_id}", "PATCH /api/evidence/uploads/{upload_id}",
        "DELETE /api/evidence/uploads/{upload_id}",
        "POST /api/antifraud/groups/export",  # the case file goes into the vault
        "POST /api/plates/route/export",  # the route and its crops go into the vault
    },
    Permission.EVIDENCE_VIEW: {
        "GET /api/events/{event_id}/evidence/{index}", "GET /api/evidence",
        "GET /api/evidence/{item_id}", "GET /api/evidence/{item_id}/file",
        "GET /api/evidence/{item_id}/alerts", "GET /api/evidence/{item_id}/custody",
        "GET /api/devices", "GET /api/devices/{device_id}/shifts", "GET /api/redactions",
        "GET /api/redactions/{redaction_id}", "GET /api/redactions/{redaction_id}/frame",
    },
    Permission.EVIDENCE_EXPORT: {
        "POST /api/evidence/export", "POST /api/redactions",
        "PATCH /api/redactions/{redaction_id}", "POST /api/redactions/{redaction_id}/apply",
    },
    Permission.EVIDENCE_MANAGE: {
        "POST /api/evidence/cases/close", "POST /api/evidence/{item_id}/hold",
    },
    Permission.DEVICES_MANAGE: {
        "POST /api/devices", "POST /api/devices/{device_id}/shifts",
        "POST /api/devices/shifts/{shift_id}/end",
    },
    Permission.INCIDENTS_READ: {
        "GET /api/incidents", "GET /api/incidents/{incident_id}",
        "GET /api/evidence/{item_id}/incidents",
    },
    Permission.INCIDENTS_WRITE: {
        "POST /api/incidents", "POST /api/incidents/from-alert",
        "POST /api/incidents/{incident_id}/evidence",
        "DELETE /api/incidents/{incident_id}/evidence/{item_id}",
        "POST /api/incidents/{incident_id}/close",
    },
    Permission.DOCUMENTS_READ: {
        "GET /api/documents", "GET /api/documents/{document_id}",
        "GET /api/documents/{document_id}/pdf", "GET /api/documents/{document_id}/verify",
        "GET /api/documents/{document_id}/signature", "GET /api/certificates/{username}",
    },
    Permission.DOCUMENTS_WRITE: {
        "POST /api/documents", "POST /api/documents/from-violation",
        "PATCH /api/documents/{document_id}", "POST /api/documents/{document_id}/{action}",
    },
    Permission.DOCUMENTS_SIGN: {"POST /api/documents/{document_id}/sign"},
    Permission.USERS_MANAGE: {"POST /api/certificates/{username}"},
}  # fmt: skip


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def declared_permissions(app: Any) -> dict[str, set[Permission]]:
    """``"METHOD /path"`` → the permissions its ``require(...)`` dependencies check."""
    declared: dict[str, set[Permission]] = {}
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        marks = {getattr(c, PERMISSION_ATTRIBUTE, None) for c in _calls(dependant)}
        for method in route.methods:
            declared[f"{method} {route.path_format}"] = marks - {None}
    return declared


def route_needs(app: Any) -> dict[str, set[Permission]]:
    """``"METHOD /path"`` → every permission it checks: dependencies, then CHECKED_INSIDE."""
    return {
        key: marks | {p for p, names in CHECKED_INSIDE.items() if key in names}
        for key, marks in declared_permissions(app).items()
    }


def open_routes() -> set[str]:
    """Routes anyone may call: the public list of the anonymous-access test, and probes."""
    public = {f"{m.upper()} {p}" for p, m in PUBLIC_METHODS}
    return public | PROBES


@pytest.fixture
def role_headers(api: TestClient, container: Container) -> dict[Role, dict[str, str]]:
    """One signed-in user per role, holding only that role (citizens sign in by phone)."""
    headers = {}
    for role in Role:
        if role is Role.CITIZEN:
            signed = sign_in(api, container, "+77011234567")
        else:
            signed = login_as(api, container, f"matrix-{role.value}", role.value)
        headers[role] = {**signed, "X-Purpose": "security matrix", "X-Case-Number": "M-1"}
    return headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_role_is_refused_exactly_what_its_permissions_do_not_grant(
    api: TestClient,
    role_headers: dict[Role, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = api.get("/api/openapi.json").json()
    routes = {
        f"{method.upper()} {path}": (path, method)
        for path, methods in spec["paths"].items()
        if path not in PUBLIC
        for method in methods
        if f"{method.upper()} {path}" not in open_routes()
    }
    declared = declared_permissions(api.app)
    needs_of = route_needs(api.app)
    inside = set().union(*CHECKED_INSIDE.values())
    assert set(routes) <= set(declared), f"not found in the app: {set(routes) - set(declared)}"
    unchecked = {key for key in routes if not declared[key]} - ANY_SIGNED_IN
    assert unchecked <= inside, f"routes with no permission on record: {unchecked - inside}"
    assert inside | ANY_SIGNED_IN <= set(routes), f"gone: {(inside | ANY_SIGNED_IN) - set(routes)}"
    assert len(routes) >= 200, "the route list looks wrong"

    checked: list[Permission] = []
    really_require = Principal.require

    def spy(self: Principal, permission: Permission) -> None:
        checked.append(permission)
        really_require(self, permission)

    monkeypatch.setattr(Principal, "require", spy)
    wrong = []
    for key, (path, method) in routes.items():
        needs = needs_of[key]
        request = example_request(spec, path, method)
        for role, headers in role_headers.items():
            allowed = all(role in allowed_roles(p) for p in needs)
            checked.clear()
            status = request.send(api, headers, endless=key in ENDLESS).status_code
            if not allowed and status != 403:
                wrong.append(f"{key} as {role}: {status}, expected 403 (needs {sorted(needs)})")
            elif allowed and status in (401, 403):
                wrong.append(f"{key} as {role}: {status}, but the role has {sorted(needs)}")
            elif allowed and not set(checked) <= needs:
                wrong.append(f"{key} also checks {sorted(set(checked) - needs)}: add it above")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_permission_dependency_refuses_before_the_body_is_read_a_service_check_after(
    api: TestClient, container: Container
) -> None:
    # Why the matrix sends well-formed requests: a check inside a service is reached only
    # by input that passes validation.
    analyst = login_as(api, container, "ana", "analyst")
    admin = login_as(api, container, "root", "admin")
    assert api.post("/api/cameras", json={}, headers=analyst).status_code == 403
    assert api.post("/api/cameras", json={}, headers=admin).status_code == 422
    close = "/api/alerts/1/close"
    assert api.post(close, json={}, headers=analyst).status_code == 422
    assert api.post(close, json={"comment": "false alarm"}, headers=analyst).status_code == 403
