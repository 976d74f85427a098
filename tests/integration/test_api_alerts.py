"""Alert handling through the API: acknowledge, close with a comment, audited and published."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kupol.alerts.messages import AlertChanged
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import AuditEntry
from kupol.core.auth.service import SYSTEM
from kupol.events.messages import CameraEventObserved
from tests.conftest import demo_camera
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PROBLEM = "application/problem+json"


@pytest.fixture
def alert_id(container: Container) -> int:
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-a")), actor=SYSTEM)
    container.alerts.create_rule(rule=AlertRuleCreate(name="motion", severity="high"), actor=SYSTEM)
    (change,) = [
        m
        for m in container.recorder.record(
            [
                CameraEventObserved(
                    camera_id="cam-a",
                    type="motion",
                    confidence=0.9,
                    occurred_at=datetime.now(UTC) - timedelta(minutes=1),
                )
            ]
        )
        if isinstance(m, AlertChanged)
    ]
    asyncio.run(container.outbox.flush())  # "raised" goes out before the test listens
    return change.alert_id


@pytest.fixture
def operator(api: TestClient, container: Container) -> dict[str, str]:
    return login_as(api, container, "operator", "operator")


@pytest.fixture
def published(container: Container) -> list[AlertChanged]:
    """Every AlertChanged the container's bus carries from now on."""
    seen: list[AlertChanged] = []

    async def remember(events: Sequence[AlertChanged]) -> None:
        seen.extend(events)

    container.bus.subscribe(AlertChanged, remember, consumer="test-alert-changes")
    return seen


def alert_audit(container: Container) -> list[tuple[str, str, str | None, dict[str, object]]]:
    with container.db.reader() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "alert").order_by(AuditEntry.seq)
        )
        return [(e.actor, e.action, e.resource_id, e.details) for e in rows]


def test_an_operator_acknowledges_then_closes_an_alert_with_a_comment(
    api: TestClient,
    container: Container,
    operator: dict[str, str],
    alert_id: int,
    published: list[AlertChanged],
) -> None:
    acknowledged = api.post(f"/api/alerts/{alert_id}/acknowledge", headers=operator)
    closed = api.post(
        f"/api/alerts/{alert_id}/close",
        headers=operator,
        json={"comment": "  наряд на месте, ложное срабатывание  "},
    )

    assert acknowledged.status_code == 200
    assert (acknowledged.json()["status"], acknowledged.json()["acknowledged_by"]) == (
        "acknowledged",
        "operator",
    )
    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["closed_by"], body["close_comment"]) == (
        "closed",
        "operator",
        "наряд на месте, ложное срабатывание",
    )
    assert body["rule_name"] == "motion"
    assert [(c.alert_id, c.change, c.status, c.by) for c in published] == [
        (alert_id, "acknowledged", "acknowledged", "operator"),
        (alert_id, "closed", "closed", "operator"),
    ]
    assert alert_audit(container) == [
        ("operator", "acknowledged", str(alert_id), {}),
        ("operator", "closed", str(alert_id), {"comment": "наряд на месте, ложное срабатывание"}),
    ]


def test_closing_an_open_alert_acknowledges_it_too(
    api: TestClient, operator: dict[str, str], alert_id: int
) -> None:
    closed = api.post(
        f"/api/alerts/{alert_id}/close", headers=operator, json={"comment": "checked on camera"}
    ).json()

    assert closed["acknowledged_by"] == "operator"
    assert closed["acknowledged_at"] is not None


def test_closing_twice_is_a_409_and_changes_nothing(
    api: TestClient,
    container: Container,
    operator: dict[str, str],
    alert_id: int,
    published: list[AlertChanged],
) -> None:
    api.post(f"/api/alerts/{alert_id}/close", headers=operator, json={"comment": "first"})

    again = api.post(f"/api/alerts/{alert_id}/close", headers=operator, json={"comment": "second"})
    acknowledge = api.post(f"/api/alerts/{alert_id}/acknowledge", headers=operator)

    assert (again.status_code, acknowledge.status_code) == (409, 409)
    assert again.headers["content-type"] == PROBLEM
    assert "already closed" in again.json()["detail"]
    assert [c.change for c in published] == ["closed"]
    assert len(alert_audit(container)) == 1


def test_acknowledging_twice_is_a_409_naming_who_took_it(
    api: TestClient, operator: dict[str, str], alert_id: int
) -> None:
    api.post(f"/api/alerts/{alert_id}/acknowledge", headers=operator)

    again = api.post(f"/api/alerts/{alert_id}/acknowledge", headers=operator)

    assert again.status_code == 409
    assert "operator" in again.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "ok"}, {"comment": "    "}])
def test_closing_without_a_comment_is_a_422(
    api: TestClient,
    container: Container,
    operator: dict[str, str],
    alert_id: int,
    body: dict[str, str],
) -> None:
    response = api.post(f"/api/alerts/{alert_id}/close", headers=operator, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert alert_audit(container) == []


@pytest.mark.parametrize("role", ["admin", "analyst", "auditor"])
def test_only_operators_handle_alerts(
    api: TestClient, container: Container, alert_id: int, published: list[AlertChanged], role: str
) -> None:
    headers = login_as(api, container, "someone", role)

    acknowledge = api.post(f"/api/alerts/{alert_id}/acknowledge", headers=headers)
    close = api.post(
        f"/api/alerts/{alert_id}/close", headers=headers, json={"comment": "not mine to close"}
    )

    assert (acknowledge.status_code, close.status_code) == (403, 403)
    assert published == []
    assert alert_audit(container) == []


def test_an_unknown_alert_is_a_404(
    api: TestClient, operator: dict[str, str], alert_id: int
) -> None:
    response = api.post(f"/api/alerts/{alert_id + 1000}/acknowledge", headers=operator)

    assert response.status_code == 404


def test_alerts_are_listed_by_status(
    api: TestClient, operator: dict[str, str], alert_id: int
) -> None:
    api.post(f"/api/alerts/{alert_id}/acknowledge", headers=operator)

    open_ = api.get("/api/alerts", params={"status": "open"}, headers=operator).json()
    taken = api.get("/api/alerts", params={"status": "acknowledged"}, headers=operator).json()
    bad = api.get("/api/alerts", params={"status": "lost"}, headers=operator)

    assert (open_, [a["id"] for a in taken]) == ([], [alert_id])
    assert bad.status_code == 422


def test_rules_are_created_and_switched_by_operators_and_audited(
    api: TestClient, container: Container, operator: dict[str, str]
) -> None:
    created = api.post(
        "/api/rules",
        headers=operator,
        json={
            "name": "ночное движение",
            "event_types": ["motion"],
            "active_from": "22:00",
            "active_to": "06:00",
            "weekdays": [6, 7],
        },
    )
    rule_id = created.json()["id"]

    disabled = api.post(f"/api/rules/{rule_id}/disable", headers=operator)
    duplicate = api.post("/api/rules", headers=operator, json={"name": "ночное движение"})
    bad = api.post("/api/rules", headers=operator, json={"name": "x", "active_from": "22:00"})

    assert created.status_code == 201
    assert created.json()["created_by"] == "operator"
    assert disabled.json()["enabled"] is False
    assert duplicate.status_code == 409
    assert bad.status_code == 422
    with container.db.reader() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.resource_type == "alert_rule")
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == ["create", "disable"]


def test_alert_counts_follow_the_workflow(
    api: TestClient, operator: dict[str, str], alert_id: int
) -> None:
    before = api.get("/api/alerts/counts", headers=operator).json()
    api.post(f"/api/alerts/{alert_id}/close", headers=operator, json={"comment": "false alarm"})
    after = api.get("/api/alerts/counts", headers=operator).json()

    assert before == {"open": 1, "acknowledged": 0, "closed": 0}
    assert after == {"open": 0, "acknowledged": 0, "closed": 1}
