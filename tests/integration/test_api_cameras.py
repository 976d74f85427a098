"""Camera endpoints: problems that name the field, conflicts, and audited changes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from tests.conftest import demo_camera
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PROBLEM = "application/problem+json"
SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1]]


@pytest.fixture
def admin_headers(api: TestClient, container: Container) -> dict[str, str]:
    return login_as(api, container, "admin", "admin")


def fields_of(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "Bad ID"}, "body:id"),
        ({"latitude": 91}, "body:latitude"),
        ({"longitude": 200}, "body:longitude"),
        ({"stream_url": "ftp://cam.local/1"}, "body:stream_url"),
        (
            {"zones": [{"name": "road", "polygon": SQUARE}, {"name": "road", "polygon": SQUARE}]},
            "body:zones",
        ),
        ({"kind": "satellite"}, "body:kind"),
    ],
)
def test_an_invalid_camera_is_a_422_problem_naming_the_field(
    api: TestClient,
    container: Container,
    admin_headers: dict[str, str],
    fields: dict[str, Any],
    field: str,
) -> None:
    response = api.post("/api/cameras", json=demo_camera(**fields), headers=admin_headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:kupol:problem:invalid-input"
    assert fields_of(response) == [field]
    assert container.cameras.list() == []


def test_a_duplicate_camera_id_is_a_409_problem(
    api: TestClient, admin_headers: dict[str, str]
) -> None:
    first = api.post("/api/cameras", json=demo_camera(), headers=admin_headers)

    second = api.post("/api/cameras", json=demo_camera(name="Another"), headers=admin_headers)

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.headers["content-type"] == PROBLEM
    assert "cam-test-01" in second.json()["detail"]


def test_a_camera_reads_back_as_registered(api: TestClient, admin_headers: dict[str, str]) -> None:
    zone = {"name": "road", "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]}
    api.post(
        "/api/cameras", json=demo_camera(zones=[zone], region_code="01"), headers=admin_headers
    )

    camera = api.get("/api/cameras/cam-test-01", headers=admin_headers).json()

    assert camera["zones"] == [zone | {"kind": "watch", "classes": None}]
    assert camera["analytics"] == {}
    assert camera["region_code"] == "01"
    assert [c["id"] for c in api.get("/api/cameras", headers=admin_headers).json()] == [
        "cam-test-01"
    ]


def test_an_unknown_camera_is_a_404_problem(api: TestClient, admin_headers: dict[str, str]) -> None:
    response = api.get("/api/cameras/nowhere-01", headers=admin_headers)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_an_update_is_applied_and_audited_with_the_changed_fields(
    api: TestClient, container: Container, admin_headers: dict[str, str]
) -> None:
    api.post("/api/cameras", json=demo_camera(), headers=admin_headers)

    response = api.patch(
        "/api/cameras/cam-test-01",
        headers=admin_headers,
        json={"name": "Астана, новый адрес", "heading_deg": 180},
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["heading_deg"]) == ("Астана, новый адрес", 180)
    auditor = login_as(api, container, "auditor", "auditor")
    entries = api.get(
        "/api/audit", headers=auditor, params={"resource_type": "camera", "action": "update"}
    ).json()
    assert [(e["actor"], e["resource_id"], e["details"]) for e in entries] == [
        ("admin", "cam-test-01", {"fields": ["heading_deg", "name"]})
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": None}, "body:name"),
        ({"latitude": None}, "body:latitude"),
        ({"stream_url": "ftp://cam.local/1"}, "body:stream_url"),
        (
            {"zones": [{"name": "a", "polygon": SQUARE}, {"name": "a", "polygon": SQUARE}]},
            "body:zones",
        ),
    ],
)
def test_an_invalid_update_is_a_422_naming_the_field_and_changes_nothing(
    api: TestClient,
    container: Container,
    admin_headers: dict[str, str],
    changes: dict[str, Any],
    field: str,
) -> None:
    api.post("/api/cameras", json=demo_camera(), headers=admin_headers)

    response = api.patch("/api/cameras/cam-test-01", json=changes, headers=admin_headers)

    assert response.status_code == 422
    assert fields_of(response) == [field]
    assert container.cameras.get("cam-test-01").name == "Camera cam-test-01"


def test_an_operator_may_read_but_not_change_cameras(
    api: TestClient, container: Container, admin_headers: dict[str, str]
) -> None:
    api.post("/api/cameras", json=demo_camera(), headers=admin_headers)
    operator = login_as(api, container, "operator", "operator")

    read = api.get("/api/cameras/cam-test-01", headers=operator)
    change = api.patch("/api/cameras/cam-test-01", json={"name": "x"}, headers=operator)

    assert (read.status_code, change.status_code) == (200, 403)
