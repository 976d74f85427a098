"""``/metrics`` and the health summary: only the monitor role and administrators read them;
requests are counted by their route's template (no plate, id or name in a label); a bus
consumer's handling shows once an event went through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from tests.conftest import demo_camera
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


def test_metrics_are_for_the_monitor_and_count_requests_by_template(
    api: TestClient, container: Container
) -> None:
    assert api.get("/metrics").status_code == 401
    operator = login_as(api, container, "oleg", "operator")
    assert api.get("/metrics", headers=operator).status_code == 403
    monitor = login_as(api, container, "prometheus", "monitor")
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-m")), actor=SYSTEM)
    device = login_as(api, container, "edge", "device")
    event = {"id": str(uuid4()), "camera_id": "cam-m", "type": "motion", "confidence": 0.9,
             "occurred_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat()}  # fmt: skip
    assert api.post("/api/events", json={"events": [event]}, headers=device).status_code < 300
    why = {**operator, "X-Purpose": "metrics test"}
    api.get("/api/plates/123ABC02/route", headers=why)
    got = api.get("/metrics", headers=monitor)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain")
    text = got.text
    assert 'route="/api/events",status="202"' in text or 'route="/api/events",status="200"' in text
    assert "123ABC02" not in text  # the template, never the plate
    assert "kupol_bus_handled_total" in text
    summary = api.get("/api/health/summary", headers=monitor).json()
    assert summary["http"]["requests"] >= 3
    assert any(c["handled"] >= 1 for c in summary["consumers"].values())
    assert summary["pipelines"] == []  # no camera pipelines run in tests
    assert api.get("/api/health/summary", headers=operator).status_code == 403
