"""Every error leaves the API as an RFC 9457 problem; health and readiness for orchestrators."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PROBLEM = "application/problem+json"
# Request handling does not depend on the database: these run on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def device(api: TestClient, container: Container) -> dict[str, str]:
    return login_as(api, container, "edge-box", "device")


@sqlite_only
def test_a_malformed_json_body_is_a_422_problem(api: TestClient, device: dict[str, str]) -> None:
    response = api.post(
        "/api/events",
        content=b'{"events": [',
        headers={**device, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:kupol:problem:invalid-input"
    assert body["instance"] == "/api/events"
    assert body["errors"][0]["message"] == "JSON decode error"


@sqlite_only
def test_wrong_types_are_a_422_problem_listing_every_field(
    api: TestClient, device: dict[str, str]
) -> None:
    response = api.post(
        "/api/events",
        headers=device,
        json={
            "events": [
                {"camera_id": 5, "type": "motion", "occurred_at": "yesterday", "confidence": "high"}
            ]
        },
    )

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "body:events.0.camera_id",
        "body:events.0.occurred_at",
        "body:events.0.confidence",
    }
    assert "body:events.0.confidence" in response.json()["detail"]


@sqlite_only
def test_a_missing_body_is_a_422_problem(api: TestClient, device: dict[str, str]) -> None:
    response = api.post("/api/events", headers=device)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


@sqlite_only
def test_a_bad_path_parameter_is_a_422_naming_it(api: TestClient, container: Container) -> None:
    operator = login_as(api, container, "operator", "operator")

    response = api.post("/api/alerts/not-a-number/acknowledge", headers=operator)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path:alert_id"]


@sqlite_only
@pytest.mark.parametrize("path", ["/api/nothing-here", "/nothing-here"])
def test_an_unknown_route_is_a_404_problem(api: TestClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Not Found"
    assert response.json()["instance"] == path


@sqlite_only
def test_a_wrong_method_is_a_405_problem(api: TestClient) -> None:
    response = api.delete("/healthz")

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


@sqlite_only
def test_healthz_answers_with_the_version(api: TestClient) -> None:
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]


def test_readyz_checks_the_database_and_the_bus(api: TestClient) -> None:
    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}


def test_readyz_is_503_naming_what_is_down_without_leaking_why(
    api: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    asyncio.run(container.bus.stop())

    response = api.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "bus": "unavailable"}
    assert "the bus is stopped" in caplog.text  # the reason goes to the log only


@sqlite_only
def test_the_openapi_document_lists_the_platform_endpoints(api: TestClient) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]

    for path in (
        "/api/auth/login",
        "/api/cameras",
        "/api/events",
        "/api/alerts",
        "/api/audit",
        "/healthz",
        "/readyz",
    ):
        assert path in paths


def test_a_person_who_mistypes_a_console_address_gets_a_page_not_json(api: TestClient) -> None:
    response = api.get("/nothing-here", headers={"Accept": "text/html,application/xhtml+xml"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Страница не найдена" in response.text
