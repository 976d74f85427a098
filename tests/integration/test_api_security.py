"""Security properties that span endpoints: no anonymous access, logout, redaction, CSRF-ish."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from tests.conftest import demo_camera
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PUBLIC = {
    "/api/auth/login", "/api/auth/logout", "/api/openapi.json", "/api/docs",
    "/api/auth/mfa/verify",  # the code step of a login: an mfa_token, no session yet
    "/api/public/school-ratings",  # driving schools' ratings: no person named (issue 11)
    "/api/citizen/code", "/api/citizen/login",  # citizens sign up and log in by phone
    # open data of citizens' reports per region: counts only, small ones withheld (issue 12)
    "/api/public/citizen-statistics", "/api/public/citizen-statistics.csv",
}  # fmt: skip
PUBLIC_METHODS = {("/api/evidence/uploads", "options")}  # tus discovery: versions and limits


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_api_route_refuses_anonymous_callers(api: TestClient) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]
    routes = [
        (p, m)
        for p, methods in paths.items()
        if p.startswith("/api/") and p not in PUBLIC
        for m in methods
        if (p, m) not in PUBLIC_METHODS
    ]
    assert len(routes) >= 15, "the route list looks wrong"
    for path, method in routes:
        concrete = (
            path.replace("{camera_id}", "cam-x")
            .replace("{event_id}", "00000000-0000-0000-0000-000000000000")
            .replace("{index}", "0")
            .replace("{alert_id}", "1")
            .replace("{rule_id}", "1")
            .replace("{username}", "someone")
        )
        response = api.request(method.upper(), concrete, json={})
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"


def test_logging_out_ends_the_token_not_only_the_cookie(
    api: TestClient, container: Container
) -> None:
    headers = login_as(api, container, "olga", "operator")
    assert api.get("/api/me", headers=headers).status_code == 200

    assert api.post("/api/auth/logout", headers=headers).status_code == 204

    assert api.get("/api/me", headers=headers).status_code == 401


def test_stream_passwords_are_shown_to_administrators_only(
    api: TestClient, container: Container
) -> None:
    container.cameras.register(
        camera=CameraCreate(
            **demo_camera("cam-rtsp", stream_url="rtsp://admin:Secr3t@10.20.30.40:554/live")
        ),
        actor=SYSTEM,
    )
    operator = login_as(api, container, "olga", "operator")
    admin = login_as(api, container, "boss", "admin")

    seen_by_operator = api.get("/api/cameras/cam-rtsp", headers=operator).json()["stream_url"]
    seen_by_admin = api.get("/api/cameras/cam-rtsp", headers=admin).json()["stream_url"]
    listed = {c["id"]: c["stream_url"] for c in api.get("/api/cameras", headers=operator).json()}

    assert seen_by_operator == "rtsp://***@10.20.30.40:554/live"
    assert listed["cam-rtsp"] == seen_by_operator
    assert seen_by_admin == "rtsp://admin:Secr3t@10.20.30.40:554/live"


def test_a_cross_site_link_cannot_make_an_audited_look_up_in_a_users_name(
    api: TestClient, container: Container
) -> None:
    from tests.conftest import add_user

    _, password = add_user(container, "olga", "operator")
    api.post("/api/auth/login", json={"username": "olga", "password": password})  # cookies set

    cross = api.get("/api/events?purpose=attacker+chosen", headers={"Sec-Fetch-Site": "cross-site"})
    same = api.get("/api/events?purpose=alert+follow-up", headers={"Sec-Fetch-Site": "same-origin"})

    assert cross.status_code == 403
    assert same.status_code == 200


def test_a_device_bound_to_its_camera_cannot_speak_for_another(
    api: TestClient, container: Container
) -> None:
    from datetime import UTC, datetime

    from tests.conftest import login

    for camera_id in ("cam-own", "cam-other"):
        container.cameras.register(camera=CameraCreate(**demo_camera(camera_id)), actor=SYSTEM)
    container.auth.create_user(
        username="edge-7", password="edge-password-7", roles=["device"], camera_ids=["cam-own"]
    )
    headers = login(api, "edge-7", "edge-password-7")
    api.cookies.clear()

    def submit(*cameras: str) -> int:
        events = [
            {
                "camera_id": c,
                "type": "motion",
                "confidence": 0.5,
                "occurred_at": datetime.now(UTC).isoformat(),
            }
            for c in cameras
        ]
        return api.post("/api/events", json={"events": events}, headers=headers).status_code

    assert submit("cam-own") == 202
    assert submit("cam-other") == 403
    assert submit("cam-own", "cam-other") == 403  # nothing of a mixed batch is accepted
    with container.db.reader() as session:
        from sqlalchemy import func, select

        from kupol.events.model import CameraEvent

        assert session.scalar(select(func.count()).select_from(CameraEvent)) == 1
