"""Event endpoints: idempotent ingestion, purpose-bound search, audited views of evidence."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import AuditEntry
from kupol.core.auth.service import SYSTEM
from kupol.events.model import CameraEvent
from tests.conftest import demo_camera
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PROBLEM = "application/problem+json"
PURPOSE = {"X-Purpose": "alert follow-up", "X-Case-Number": "KUSP-2026-0042"}


def event(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid4()),
        "camera_id": "cam-a",
        "type": "motion",
        "confidence": 0.9,
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        **fields,
    }


def stored(container: Container) -> int:
    with container.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(CameraEvent)) or 0)


def audit(container: Container, action: str) -> list[AuditEntry]:
    with container.db.reader() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


@pytest.fixture
def device(api: TestClient, container: Container) -> dict[str, str]:
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-a")), actor=SYSTEM)
    return login_as(api, container, "edge-box", "device")


@pytest.fixture
def operator(api: TestClient, container: Container) -> dict[str, str]:
    return login_as(api, container, "operator", "operator")


def test_ingested_events_are_stored_once_even_when_posted_twice(
    api: TestClient, container: Container, device: dict[str, str]
) -> None:
    batch = {"events": [event(), event(zone="road")]}

    first = api.post("/api/events", json=batch, headers=device)
    again = api.post("/api/events", json=batch, headers=device)

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == {"accepted": 2, "ids": [e["id"] for e in batch["events"]]}
    assert stored(container) == 2


def test_an_event_without_an_id_gets_one(
    api: TestClient, container: Container, device: dict[str, str]
) -> None:
    body = event()
    del body["id"]

    response = api.post("/api/events", json={"events": [body]}, headers=device)

    (event_id,) = response.json()["ids"]
    with container.db.reader() as session:
        assert session.get(CameraEvent, UUID(event_id)) is not None


def test_an_unknown_camera_is_a_422_naming_it_and_nothing_is_stored(
    api: TestClient, container: Container, device: dict[str, str]
) -> None:
    batch = {"events": [event(), event(camera_id="cam-ghost")]}

    response = api.post("/api/events", json=batch, headers=device)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"field": "events.1.camera_id", "message": "unknown camera 'cam-ghost'"}
    ]
    assert stored(container) == 0


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("2026-01-05T12:00:00", "needs a time zone"),
        ((datetime.now(UTC) + timedelta(hours=1)).isoformat(), "in the future"),
    ],
    ids=["naive", "an-hour-ahead"],  # the same names in every test process
)
def test_naive_or_future_times_are_refused(
    api: TestClient, container: Container, device: dict[str, str], occurred_at: str, message: str
) -> None:
    response = api.post(
        "/api/events", json={"events": [event(occurred_at=occurred_at)]}, headers=device
    )

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body:events.0.occurred_at"
    assert message in error["message"]
    assert stored(container) == 0


def test_a_device_may_submit_but_not_read_events(api: TestClient, device: dict[str, str]) -> None:
    response = api.get("/api/events", headers={**device, **PURPOSE})

    assert response.status_code == 403


def test_a_search_without_a_purpose_is_428_and_not_run(
    api: TestClient, container: Container, operator: dict[str, str]
) -> None:
    response = api.get("/api/events", headers=operator)

    assert response.status_code == 428
    assert response.headers["content-type"] == PROBLEM
    assert audit(container, "search") == []


def test_a_search_is_audited_with_the_purpose_and_case_number(
    api: TestClient, container: Container, device: dict[str, str], operator: dict[str, str]
) -> None:
    api.post("/api/events", json={"events": [event(zone="road"), event()]}, headers=device)

    response = api.get("/api/events", params={"zone": "road"}, headers={**operator, **PURPOSE})

    assert response.status_code == 200
    assert [e["zone"] for e in response.json()] == ["road"]
    (entry,) = audit(container, "search")
    assert (entry.actor, entry.purpose, entry.case_number) == (
        "operator",
        "alert follow-up",
        "KUSP-2026-0042",
    )
    assert entry.details["zone"] == "road"


def test_a_purpose_in_russian_arrives_percent_encoded_in_the_header(
    api: TestClient, container: Container, operator: dict[str, str]
) -> None:
    purpose = "розыск по ориентировке №17"

    response = api.get("/api/events", headers={**operator, "X-Purpose": quote(purpose)})

    assert response.status_code == 200
    assert audit(container, "search")[0].purpose == purpose


def test_a_purpose_may_be_given_as_query_parameters(
    api: TestClient, container: Container, operator: dict[str, str]
) -> None:
    response = api.get(
        "/api/events", headers=operator, params={"purpose": "проверка сообщения", "case": "KUSP-1"}
    )

    assert response.status_code == 200
    assert (audit(container, "search")[0].purpose, audit(container, "search")[0].case_number) == (
        "проверка сообщения",
        "KUSP-1",
    )


@pytest.mark.parametrize("param", ["since", "until"])
def test_a_search_time_without_a_zone_is_a_422_naming_it(
    api: TestClient, operator: dict[str, str], param: str
) -> None:
    response = api.get(
        "/api/events", params={param: "2026-01-05T12:00:00"}, headers={**operator, **PURPOSE}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [f"query:{param}"]


def test_a_search_by_time_uses_the_given_zone(
    api: TestClient, device: dict[str, str], operator: dict[str, str]
) -> None:
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    api.post("/api/events", headers=device, json={"events": [event(occurred_at=at.isoformat())]})

    # 14:59 and 15:01 in Almaty (UTC+5) are just before and after 10:00 UTC.
    before = api.get(
        "/api/events",
        headers={**operator, **PURPOSE},
        params={"since": "2026-01-05T14:59:00+05:00"},
    )
    after = api.get(
        "/api/events",
        headers={**operator, **PURPOSE},
        params={"since": "2026-01-05T15:01:00+05:00"},
    )

    assert (len(before.json()), len(after.json())) == (1, 0)


def test_viewing_an_event_is_audited(
    api: TestClient, container: Container, device: dict[str, str], operator: dict[str, str]
) -> None:
    body = event()
    api.post("/api/events", json={"events": [body]}, headers=device)

    response = api.get(f"/api/events/{body['id']}", headers={**operator, **PURPOSE})
    unaudited = api.get(f"/api/events/{body['id']}", headers=operator)

    assert response.status_code == 200
    assert response.json()["id"] == body["id"]
    assert unaudited.status_code == 428
    (entry,) = audit(container, "view")
    assert (entry.resource_id, entry.case_number) == (body["id"], "KUSP-2026-0042")


@pytest.fixture
def evidence_event(
    api: TestClient, container: Container, device: dict[str, str]
) -> tuple[str, bytes]:
    content = b"\xff\xd8 a snapshot \xff\xd9"
    path = container.evidence_dir / "cam-a" / "snap.jpg"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    body = event(
        evidence=[
            {
                "kind": "snapshot",
                "uri": "cam-a/snap.jpg",
                "sha256": hashlib.sha256(content).hexdigest(),
                "media_type": "image/jpeg",
            }
        ]
    )
    api.post("/api/events", json={"events": [body]}, headers=device)
    return body["id"], content


def test_viewing_evidence_serves_the_file_and_is_audited(
    api: TestClient,
    container: Container,
    operator: dict[str, str],
    evidence_event: tuple[str, bytes],
) -> None:
    event_id, content = evidence_event

    response = api.get(f"/api/events/{event_id}/evidence/0", headers={**operator, **PURPOSE})

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "image/jpeg"
    (entry,) = audit(container, "view-evidence")
    assert (entry.resource_id, entry.purpose, entry.details) == (
        event_id,
        "alert follow-up",
        {"index": 0},
    )


def test_an_analyst_may_search_but_not_view_evidence(
    api: TestClient, container: Container, evidence_event: tuple[str, bytes]
) -> None:
    analyst = {**login_as(api, container, "analyst", "analyst"), **PURPOSE}
    event_id, _ = evidence_event

    assert api.get("/api/events", headers=analyst).status_code == 200
    assert api.get(f"/api/events/{event_id}/evidence/0", headers=analyst).status_code == 403


@pytest.mark.parametrize(
    "uri", ["../secret.txt", "cam-a/../../secret.txt", "/etc/hostname", "%2e%2e/secret.txt"]
)
def test_evidence_outside_the_evidence_folder_is_never_served(
    api: TestClient,
    container: Container,
    device: dict[str, str],
    operator: dict[str, str],
    uri: str,
) -> None:
    secret = container.settings.data_dir / "secret.txt"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("the database password")
    container.evidence_dir.mkdir(parents=True, exist_ok=True)
    body = event(evidence=[{"kind": "snapshot", "uri": uri, "sha256": "0" * 64}])
    api.post("/api/events", json={"events": [body]}, headers=device)

    response = api.get(f"/api/events/{body['id']}/evidence/0", headers={**operator, **PURPOSE})

    assert response.status_code == 404
    assert "password" not in response.text
    assert response.headers["content-type"] == PROBLEM


def test_missing_evidence_is_a_404(
    api: TestClient, operator: dict[str, str], evidence_event: tuple[str, bytes]
) -> None:
    event_id, _ = evidence_event

    response = api.get(f"/api/events/{event_id}/evidence/1", headers={**operator, **PURPOSE})

    assert response.status_code == 404
