"""Body cameras bound to officers by shifts, and incidents that gather the clips and alerts
that saw them, on SQLite and PostgreSQL: a clip is attributed to the officer whose shift
covers it (or marked unassigned, conflicting or unregistered — and kept); an incident links
the clips whose device came within its radius while it happened, when it is recorded and
when such a clip arrives later; a protocol drafted from an incident carries its evidence."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kupol.alerts.model import Alert, AlertRule
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.evidence.service import Metadata
from tests.conftest import add_user
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
START = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 08:00 in Astana
PLACE = (51.1283, 71.4305)


def clip(
    container: Container,
    n: int,
    *,
    device: str,
    minutes: tuple[int, int] = (0, 30),
    officer: str | None = None,
    lat0: float = 51.1283,
) -> Any:
    """A clip of ``device`` recording from START+minutes[0] to START+minutes[1], walking north
    from ``lat0`` (about 11 m a minute)."""
    began, ended = (START + timedelta(minutes=m) for m in minutes)
    track = tuple(
        (lat0 + 0.0001 * i, 71.4300, (began + timedelta(minutes=i)).isoformat())
        for i in range(minutes[1] - minutes[0] + 1)
    )
    uploader = add_user(container, f"dock{n}", "operator")[0]
    return container.evidence.ingest(
        io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + bytes([n]) * 512),
        Metadata(
            filename=f"clip-{n}.mp4",
            category="bodycam",
            device_id=device,
            officer=officer,
            started_at=began,
            ended_at=ended,
            gps=track,
        ),
        actor=uploader,
    ).item


def test_clips_are_attributed_to_the_officer_whose_shift_covers_them(
    api: Any, container: Container
) -> None:
    duty = login_as(api, container, "duty", "operator")
    analyst = login_as(api, container, "analyst", "analyst")
    add_user(container, "patrol", "operator")
    add_user(container, "other", "operator")
    new = {"id": "badge-0042", "kind": "bodycam", "serial": "SN-778812", "model": "Axon Body 3"}
    assert api.post("/api/devices", json=new, headers=analyst).status_code == 403
    assert api.post("/api/devices", json={**new, "id": "bad id/1"}, headers=duty).status_code == 422
    assert api.post("/api/devices", json=new, headers=duty).status_code == 201
    assert api.post("/api/devices", json=new, headers=duty).status_code == 409
    shift = {
        "officer": "patrol",
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=12)).isoformat(),
    }
    assert (
        api.post(
            "/api/devices/badge-0042/shifts", json={**shift, "officer": "nobody"}, headers=duty
        ).status_code
        == 422
    )
    made = api.post("/api/devices/badge-0042/shifts", json=shift, headers=duty)
    assert made.status_code == 201, made.text
    overlap = {
        **shift,
        "officer": "other",
        "starts_at": (START + timedelta(hours=11)).isoformat(),
        "ends_at": (START + timedelta(hours=20)).isoformat(),
    }
    clash = api.post("/api/devices/badge-0042/shifts", json=overlap, headers=duty)
    assert clash.status_code == 409 and "with patrol" in clash.json()["detail"]

    mine = clip(container, 1, device="badge-0042")
    assert (mine.officer, mine.attribution) == ("patrol", "shift")
    named = clip(container, 2, device="badge-0042", officer="other")
    assert (named.officer, named.attribution) == ("other", "conflict")  # kept, marked
    late = clip(container, 3, device="badge-0042", minutes=(800, 810))
    assert (late.officer, late.attribution) == (None, "unassigned")
    stray = clip(container, 4, device="badge-9999")
    assert stray.attribution == "unregistered"
    viewer = add_user(container, "viewer", "investigator")[0]
    custody = container.evidence.custody_log(item_id=mine.id, actor=viewer)
    assert custody[0]["details"]["shift"] == made.json()["id"]

    # A shift without an end: the device is out until it is handed back.
    assert (
        api.post(f"/api/devices/shifts/{made.json()['id']}/end", json={}, headers=duty).status_code
        == 409
    )  # it had an end
    out = api.post(
        "/api/devices/badge-0042/shifts",
        json={"officer": "other", "starts_at": (START + timedelta(hours=13)).isoformat()},
        headers=duty,
    ).json()
    back = (START + timedelta(hours=14)).isoformat()
    ended = api.post(f"/api/devices/shifts/{out['id']}/end", json={"ends_at": back}, headers=duty)
    assert ended.status_code == 200 and ended.json()["ends_at"].startswith("2026-12-03T17:00")
    api.post("/api/devices", json={**new, "id": "badge-0043"}, headers=duty)
    now = datetime.now(UTC)
    api.post(
        "/api/devices/badge-0043/shifts",
        json={"officer": "patrol", "starts_at": (now - timedelta(hours=1)).isoformat()},
        headers=duty,
    )
    listed = {d["id"]: d["holder"] for d in api.get("/api/devices", headers=duty).json()}
    assert listed == {"badge-0042": None, "badge-0043": "patrol"}


def test_incidents_gather_the_clips_and_alerts_that_saw_them(
    api: Any, container: Container
) -> None:
    officer = login_as(api, container, "officer", "traffic_officer")
    analyst = login_as(api, container, "analyst", "analyst")
    for camera_id, lat, lon in (("near", *PLACE), ("far", 51.1600, 71.4700)):
        container.cameras.register(
            camera=CameraCreate(
                id=camera_id, name=camera_id, kind="fixed", latitude=lat, longitude=lon
            ),
            actor=SYSTEM,
        )
    with container.db.unit_of_work() as session:
        rule = AlertRule(name="any", severity="high", event_types=[], created_by="t")
        session.add(rule)
        session.flush()
        alerts = []
        for camera_id, minutes in (("near", 10), ("far", 11)):
            at = START + timedelta(minutes=minutes)
            alert = Alert(
                rule_id=rule.id,
                camera_id=camera_id,
                first_event_id=uuid.uuid4(),
                event_type="fight",
                severity="high",
                raised_at=at,
                last_event_at=at,
            )
            session.add(alert)
            session.flush()
            alerts.append(alert.id)
    there = clip(container, 11, device="badge-1")  # walks past the place at minutes 0-5
    away = clip(container, 12, device="badge-2", lat0=51.1700)  # 4.6 km north
    before = clip(container, 13, device="badge-3", minutes=(-120, -90))  # 2 hours earlier

    body = {
        "kind": "assault",
        "title": "Драка у ТРЦ",
        "latitude": PLACE[0],
        "longitude": PLACE[1],
        "radius_m": 200,
        "occurred_from": (START + timedelta(minutes=5)).isoformat(),
        "occurred_to": (START + timedelta(minutes=15)).isoformat(),
        "case_number": "2612-0101",
        "description": "Драка двух мужчин у входа.",
    }
    assert api.post("/api/incidents", json=body, headers=analyst).status_code == 403
    assert (
        api.post("/api/incidents", json={**body, "kind": "alien"}, headers=officer).status_code
        == 422
    )
    assert (
        api.post(
            "/api/incidents", json={**body, "occurred_to": START.isoformat()}, headers=officer
        ).status_code
        == 422
    )
    made = api.post("/api/incidents", json=body, headers=officer)
    assert made.status_code == 201, made.text
    incident = made.json()
    assert incident["number"].startswith("INC-")
    assert [e["item_id"] for e in incident["evidence"]] == [there.id]
    assert incident["evidence"][0]["how"] == "auto" and incident["evidence"][0]["distance_m"] < 200
    assert [a["alert_id"] for a in incident["alerts"]] == [alerts[0]]  # not the far camera's
    assert away.id and before.id

    # A clip docked later that passed by: linked as it arrives.
    later = clip(container, 14, device="badge-4", minutes=(8, 20), lat0=51.1280)
    url = f"/api/incidents/{incident['id']}"
    assert api.get(url, headers=analyst).status_code == 403  # officers' names, clips
    got = api.get(url, headers=officer).json()
    assert sorted(e["item_id"] for e in got["evidence"]) == sorted([there.id, later.id])
    # By hand: link the far clip, unlink it again.
    linked = api.post(f"{url}/evidence", json={"item_id": away.id}, headers=officer).json()
    assert {e["item_id"]: e["how"] for e in linked["evidence"]}[away.id] == "manual"
    assert (
        api.post(f"{url}/evidence", json={"item_id": away.id}, headers=officer).status_code == 409
    )
    assert api.delete(f"{url}/evidence/{away.id}", headers=officer).status_code == 200

    # A protocol from the incident carries its place, case and evidence.
    doc = api.post(
        "/api/documents",
        json={
            "kind": "protocol",
            "language": "ru",
            "incident_id": incident["id"],
            "fields": {"article": "434", "title": "Мелкое хулиганство"},
        },
        headers=officer,
    )
    assert doc.status_code == 201, doc.text
    content = doc.json()["content"]
    assert content["incident"] == incident["number"] and content["case_number"] == "2612-0101"
    assert len(content["evidence"]) == 2 and content["place"].startswith("Драка у ТРЦ")

    # Closed: new clips are no longer linked. From an alert: its camera, its time.
    assert api.post(f"{url}/close", headers=officer).json()["status"] == "closed"
    clip(container, 15, device="badge-5", minutes=(6, 9))
    assert len(api.get(url, headers=officer).json()["evidence"]) == 2
    from_alert = api.post(
        "/api/incidents/from-alert",
        json={"alert_id": alerts[1], "kind": "public_order", "title": "Alert"},
        headers=officer,
    ).json()
    assert (from_alert["latitude"], from_alert["alert_id"]) == (51.16, alerts[1])
    assert [a["alert_id"] for a in from_alert["alerts"]] == [alerts[1]]
    assert len(api.get("/api/incidents?status=open", headers=officer).json()) == 1
