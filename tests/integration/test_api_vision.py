"""Vision endpoints: audited live views, pipeline health, analytics validation, audited tracks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.core.audit import AuditEntry
from kupol.vision.messages import TrackObserved
from kupol.vision.scenario import write_video, zone_dwell
from tests.conftest import add_user, demo_camera, login, make_settings
from tests.unit.factories import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
PURPOSE = {"X-Purpose": "incident 17 follow-up"}
MOTION_ONLY = {"detector": {"type": "motion"}, "abandoned": {"enabled": False}}


@pytest.fixture
def live(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Container]]:
    container = build_container(
        make_settings(
            database_url=sqlite_url,
            data_dir=tmp_path / "data",
            vision={"poll_s": 0.2, "loop_files": True, "realtime_files": True},
        )
    )
    with TestClient(create_app(container)) as client:
        yield client, container


def headers(client: TestClient, container: Container, name: str, *roles: str) -> dict[str, str]:
    _, password = add_user(container, name, *roles)
    return login(client, name, password)


def wait_for_frame(client: TestClient, url: str, auth: dict[str, str]) -> Any:
    for _ in range(200):
        response = client.get(url, headers=auth | PURPOSE)
        if response.status_code != 503:
            return response
        time.sleep(0.05)
    raise AssertionError(f"{url} never had a frame")


def audit_actions(container: Container, resource_type: str) -> list[tuple[str, str | None]]:
    with container.db.reader() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.resource_type == resource_type)
            .order_by(AuditEntry.seq)
        ).all()
        return [(e.action, e.purpose) for e in entries]


def test_a_camera_added_through_the_api_is_live_at_once_and_every_view_is_audited(
    live: tuple[TestClient, Container], tmp_path: Path
) -> None:
    client, container = live
    video = write_video(zone_dwell(), tmp_path / "scene.mp4")
    admin = headers(client, container, "chief", "admin")
    operator = headers(client, container, "duty", "operator")

    created = client.post(
        "/api/cameras",
        json=demo_camera("cam-live", stream_url=str(video), analytics=MOTION_ONLY),
        headers=admin,
    )
    assert created.status_code == 201, created.text

    snapshot = wait_for_frame(client, "/api/cameras/cam-live/live.jpg", operator)
    assert snapshot.status_code == 200
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content[:2] == b"\xff\xd8"
    assert ("snapshot", "incident 17 follow-up") in audit_actions(container, "camera")

    no_purpose = client.get("/api/cameras/cam-live/live.jpg", headers=operator)
    assert no_purpose.status_code == 428

    admin_only = client.get("/api/cameras/cam-live/live.jpg", headers=admin | PURPOSE)
    assert admin_only.status_code == 403  # administrators run cameras, they do not watch them

    health = client.get("/api/vision/health", headers=operator).json()
    assert [h["camera_id"] for h in health] == ["cam-live"]
    assert health[0]["state"] == "running"
    assert health[0]["frames"] > 0

    objects = client.get("/api/cameras/cam-live/objects", headers=operator).json()
    assert objects["camera_id"] == "cam-live"
    assert all(0 <= v <= 1 for o in objects["objects"] for v in o["box"])
    assert objects["counts"] == {"zones": {}, "lines": {}}


def test_a_camera_without_a_pipeline_says_so(live: tuple[TestClient, Container]) -> None:
    client, container = live
    admin = headers(client, container, "chief", "admin")
    operator = headers(client, container, "duty", "operator")
    client.post("/api/cameras", json=demo_camera("cam-dark"), headers=admin)

    response = client.get("/api/cameras/cam-dark/live.jpg", headers=operator | PURPOSE)

    assert response.status_code == 503
    assert "no running pipeline" in response.json()["detail"]


@pytest.mark.parametrize(
    ("analytics", "field"),
    [
        ({"crowd": {"min_count": 1}}, "analytics.crowd.min_count"),
        ({"detector": {"type": "yolo9000"}}, "analytics.detector"),
        ({"loitering": {"enabled": True, "zones": ["nowhere"]}}, "analytics"),
        ({"zones": []}, "analytics.zones"),
        ({"sharpness": 3}, "analytics.sharpness"),
        ({"intrusion": {"classes": ["persn"]}}, "unknown object classes: persn"),
    ],
)
def test_invalid_analytics_are_refused_naming_the_field(
    live: tuple[TestClient, Container], analytics: dict[str, Any], field: str
) -> None:
    client, container = live
    admin = headers(client, container, "chief", "admin")

    response = client.post(
        "/api/cameras", json=demo_camera("cam-bad", analytics=analytics), headers=admin
    )

    assert response.status_code == 422, response.text
    assert field in response.text
    assert client.get("/api/cameras/cam-bad", headers=admin).status_code == 404


def test_a_change_that_breaks_the_analytics_keeps_the_camera_as_it_was(
    live: tuple[TestClient, Container],
) -> None:
    client, container = live
    admin = headers(client, container, "chief", "admin")
    zone = {"name": "gate", "polygon": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
    client.post(
        "/api/cameras",
        json=demo_camera(
            "cam-z",
            zones=[zone],
            analytics={"loitering": {"enabled": True, "zones": ["gate"]}},
        ),
        headers=admin,
    )

    # Removing the zone a rule names would leave the rule pointing nowhere.
    response = client.patch("/api/cameras/cam-z", json={"zones": []}, headers=admin)

    assert response.status_code == 422
    assert "gate" in response.json()["detail"]
    assert [z["name"] for z in client.get("/api/cameras/cam-z", headers=admin).json()["zones"]] == [
        "gate"
    ]


def test_track_searches_and_views_are_audited_with_every_track_returned(
    live: tuple[TestClient, Container],
) -> None:
    client, container = live
    admin = headers(client, container, "chief", "admin")
    analyst = headers(client, container, "ana", "analyst")
    client.post("/api/cameras", json=demo_camera("cam-t"), headers=admin)
    start = datetime.now(UTC) - timedelta(minutes=2)
    common = {
        "camera_id": "cam-t",
        "run_id": "run1",
        "track_id": 7,
        "object_class": "person",
        "started_at": start,
        "confidence": 0.8,
        "box": (0.1, 0.2, 0.2, 0.6),
    }
    container.tracks.record(
        [
            TrackObserved(stage="start", seen_at=start, **common),  # type: ignore[arg-type]
            TrackObserved(
                stage="end",
                seen_at=start + timedelta(seconds=9),
                path=((0.0, 0.15, 0.6), (9.0, 0.8, 0.6)),
                **common,  # type: ignore[arg-type]
            ),
        ]
    )

    found = client.get("/api/tracks?object_class=person", headers=analyst | PURPOSE)
    one = client.get("/api/tracks/cam-t/run1/7", headers=analyst | PURPOSE)

    assert found.status_code == 200
    assert [t["id"] for t in found.json()] == ["cam-t/run1/7"]
    assert found.json()[0]["state"] == "ended"
    assert one.json()["path"] == [[0.0, 0.15, 0.6], [9.0, 0.8, 0.6]]
    assert ("search", "incident 17 follow-up") in audit_actions(container, "track")
    assert ("view", "incident 17 follow-up") in audit_actions(container, "track")
    assert client.get("/api/tracks", headers=analyst).status_code == 428
